# lib/dns: sources are added here by the dns module.
