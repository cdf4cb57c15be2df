# mailwardctl
