"""The redactor: URLs, connection strings and free text lose their secrets and keep the rest; it never raises."""

import logging
import pickle
import random
import string

import httpx
import pytest

from core.errors import EndpointUnreachable, SearchUnavailable, StorageError
from core.redact import redact_logs, redact_text, redact_url, secret_name, url_secrets


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:pw@db/x?sslmode=require&password=pw", "postgresql://u:***@db/x?sslmode=require&password=***"),
    ("http://research:pw@127.0.0.1:9/v1?api_key=k", "http://research:***@127.0.0.1:9/v1?api_key=***"),
    ("https://user:p:w@[::1]:80/x?apiKey=1&q=a+b", "https://user:***@[::1]:80/x?apiKey=***&q=a+b"),
    ("https://b.s3.example/o?X-Amz-Signature=s&X-Amz-Credential=c&v=1",
     "https://b.s3.example/o?X-Amz-Signature=***&X-Amz-Credential=***&v=1"),
    ("https://h/cb#access_token=t&state=1", "https://h/cb#access_token=***&state=1"),
    ("https://h/?key=AIza&sig=x&sslpassword=y&Token=z&client_secret=w&auth=v",
     "https://h/?key=***&sig=***&sslpassword=***&Token=***&client_secret=***&auth=***"),
    ("postgresql://postgres:@/postgres?host=/tmp/s", "postgresql://postgres:@/postgres?host=/tmp/s"),  # no password
    ("postgresql://u@h/db", "postgresql://u@h/db"),
    ("mysql://u:pw@db.example/db", "mysql://u:***@db.example/db"),
    ("judge:pw@judge.example/v1", "judge:***@judge.example/v1"),  # a URL that lost its scheme
    # a password with an unencoded / ? # @ or space: the user info runs to the last @
    ("postgresql://u:pa/ss@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgresql://u:pa?ss@h/db?password=x", "postgresql://u:***@h/db?password=***"),
    ("postgresql://u:p#ss@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:pa ss@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:pw@[::1/db", "postgresql://u:***@***"),  # unreadable: only the user name is kept
    # page URLs keep what they hold
    ("https://medium.com/@user/post?page=2", "https://medium.com/@user/post?page=2"),
    ("https://example.com:8080/@user", "https://example.com:8080/@user"),
    ("https://example.com/search?q=monkey+key&max_tokens=5", "https://example.com/search?q=monkey+key&max_tokens=5"),
    ("not a url", "not a url"),
    ("", ""),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(("text", "shown"), [
    ("cannot reach the model endpoint at http://u:pw@h:9/v1?api_key=k (DEEPRESEARCH_BASE_URL): ConnectError",
     "cannot reach the model endpoint at http://u:***@h:9/v1?api_key=*** (DEEPRESEARCH_BASE_URL): ConnectError"),
    ("(got 'mysql://u:pw@db/x')", "(got 'mysql://u:***@db/x')"),
    ("host=h port=5432 password=pw dbname=x", "host=h port=5432 password=*** dbname=x"),
    ("host=h password='p w' user=x", "host=h password=*** user=x"),
    ("SERPER_API_KEY=abc DEEPRESEARCH_API_KEY = sk-1", "SERPER_API_KEY=*** DEEPRESEARCH_API_KEY = ***"),
    ("{'api_key': 'sk-1', 'model': 'm'}", "{'api_key': '***', 'model': 'm'}"),
    ('{"token": "a\\"b", "n": 1}', '{"token": "***", "n": 1}'),
    ("headers={'Authorization': 'Bearer sk-123456'} then Bearer abcdefgh",
     "headers={'Authorization': '***'} then Bearer ***"),
    # prose keeps its words: KEY=VALUE as a placeholder, counts of tokens
    ("--set expects KEY=VALUE (got 'max_tokens=abc')", "--set expects KEY=VALUE (got 'max_tokens=abc')"),
    ("HTTP 404 at https://example.com/a?id=5.", "HTTP 404 at https://example.com/a?id=5."),
])
def test_redact_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown


def test_secrets_a_library_quotes_outside_any_url_are_masked_too() -> None:
    """libpq's parse errors quote a password, or a piece of one, alone."""
    assert redact_text('invalid percent-encoded token: "pw%zz"', url_secrets("postgresql://u:pw%zz@h/db")) == \
        'invalid percent-encoded token: "***"'
    assert redact_text('invalid integer value "pa" for connection option "port"',
                       url_secrets("postgresql://u:pa#ss@h/db")) == \
        'invalid integer value "***" for connection option "port"'
    assert url_secrets("postgresql://u@h/db?sslmode=require&password=p%41ss") == ["p%41ss", "pAss"]
    assert url_secrets("host=h password='a b' dbname=x") == ["'a b'", "a b"]
    assert url_secrets("postgresql://u@h/db") == []


def test_what_names_a_secret() -> None:
    for name in ("password", "PGPASSWORD", "sslpassword", "passwd", "pwd", "api_key", "apiKey", "X-API-KEY", "apikey",
                 "access_token", "refresh_token", "client_secret", "X-Amz-Signature", "sig", "auth", "credentials"):
        assert secret_name(name), name
    for name in ("q", "page", "host", "sslmode", "max_tokens", "format", "language", "design", "keywords"):
        assert not secret_name(name), name


def test_the_redactor_never_raises_and_masks_any_password() -> None:
    rng = random.Random(17)
    alphabet = string.printable + "éü中[]@:/?#%&='\""
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert isinstance(redact_url(text), str) and isinstance(redact_text(text, url_secrets(text)), str)
        assert isinstance(redact_url("http://" + text), str) and isinstance(redact_text("x http://" + text), str)
    safe = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:/?#[]@%"
    for _ in range(3000):
        password = "S3CR3T" + "".join(rng.choice(safe) for _ in range(rng.randint(1, 12)))
        url = f"https://user:{password}@host.example:8443/v1?x=1"
        assert "S3CR3T" not in redact_url(url), url
        assert "S3CR3T" not in redact_text(f"failed for {url}: refused", url_secrets(url)), url


def test_long_input_is_redacted_in_linear_time() -> None:
    """Inputs shaped to make a backtracking pattern quadratic (a megabyte each) finish: the bound is for a hang."""
    for text in ("a" * 1_000_000, "a+" * 500_000, "a=" * 500_000, "'a':" * 250_000, "http://[" * 125_000,
                 "http://u:p@h/" + "x" * 1_000_000, "a" + " " * 1_000_000, "Bearer " * 150_000):
        assert isinstance(redact_text(text, ["abc"]), str) and isinstance(redact_url(text), str)


def test_errors_are_redacted_as_they_are_made() -> None:
    """Every message of the project's errors (printed, logged, stored in failures) went through the redactor."""
    unreachable = EndpointUnreachable("http://u:pw@h:9/v1?api_key=k", "ConnectError")
    assert "pw" not in str(unreachable) and "http://u:***@h:9/v1?api_key=***" in str(unreachable)
    assert unreachable.base_url == "http://u:***@h:9/v1?api_key=***"
    offline = SearchUnavailable("searxng", "no answer from http://sx:pw@h/search")
    assert "pw" not in str(offline) and "pw" not in offline.detail
    stored = pickle.loads(pickle.dumps(StorageError("password=pw")))
    assert str(stored) == "password=***"


def test_logged_urls_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs every request's URL; once the edge asked for it, with no password or key."""
    redact_logs()
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "GET",
                                        httpx.URL("http://u:pw@h/x?token=t&q=1"), "HTTP/1.1", 200, "OK")
    assert caplog.messages == ['HTTP Request: GET http://u:***@h/x?token=***&q=1 "HTTP/1.1 200 OK"']
