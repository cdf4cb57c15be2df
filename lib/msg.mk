# lib/msg: sources are added here by the msg module.
