# mailward-policyd
