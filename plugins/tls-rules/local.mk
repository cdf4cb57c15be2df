# tls-rules plugin
