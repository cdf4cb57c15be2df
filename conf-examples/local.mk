# conf-examples
