"""Background work: jobs written in the transaction of their cause, run by ``flask forum worker``."""
