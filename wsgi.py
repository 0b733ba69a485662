"""What gunicorn serves: ``gunicorn wsgi:app``."""

import gc

from forum import create_app

app = create_app()
# What start-up made (modules, the app, its templates) lives as long as the worker: out
# of the garbage collector's reach, a full collection no longer walks it each time (about
# 60 ms, once every few dozen pages of 500 posts).
gc.collect()
gc.freeze()
