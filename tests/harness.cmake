# Harness pieces: _encode_pair.
gqla_add_test(test_requests test_requests.c)
