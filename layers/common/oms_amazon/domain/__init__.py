"""Pure domain: entities, value objects and errors. No I/O, no boto3, no environment."""
