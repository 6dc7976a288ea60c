"""The launcher: the `partnernet` command, and what runs the whole platform on one machine.

It imports the services and the gateway to run them; nothing of the platform imports it (an import-linter
contract). The kernel every service builds on is `shared`.
"""
