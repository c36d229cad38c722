"""Extension objects, created once and unbound; create_app binds them with init_app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from peewee import DatabaseProxy

db = DatabaseProxy()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# No default limits: each limited route states its own (sign-in, link sending).
limiter = Limiter(key_func=get_remote_address)
