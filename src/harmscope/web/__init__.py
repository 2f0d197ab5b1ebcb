"""The partnership's shared workspace (issue 16): one server, each partner through its role.

``create_app`` (web/app.py) builds the FastAPI app; ``access.MATRIX`` decides every route;
``data.payload`` gives each page's data through the publishing path; ``audit`` records every
view of non-public data in a hash chain. Nothing here decides a privacy rule: the audience a
role gets is passed to the same publishers the command line uses.
"""
