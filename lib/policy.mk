# lib/policy: sources are added here by the policy module.
