# mailward-milter
