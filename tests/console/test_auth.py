"""Users and sessions (pyrustpipe/console/auth.py): the users file's errors name the entry,
tokens map to users by their SHA-256 only, sessions open and close, roles order."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyrustpipe.console.auth import Authenticator, AuthFileError, User, hash_token, load_users


def test_users_file_and_tokens(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(f"users:\n- {{name: a, role: viewer, token_sha256: {hash_token('t1')}}}\n")
    users = load_users(path)
    auth = Authenticator(users)
    assert auth.user_for_token("t1") == User("a", "viewer")
    assert auth.user_for_token("t2") is None and auth.user_for_token("") is None
    assert not User("a", "viewer").may("operator") and User("b", "operator").may("viewer")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected 'users:'"),
        ("users: []", "expected 'users:'"),
        ("users:\n- {name: a, role: admin, token_sha256: x}", "viewer or operator"),
        ("users:\n- {name: a, role: viewer, token_sha256: abc}", "64 hex digits"),
        ("users:\n- {name: '', role: viewer, token_sha256: abc}", "'name'"),
        (f"users:\n- {{name: a, role: viewer, token_sha256: {'z' * 64}}}", "64 hex digits"),
        ("users: [", "cannot read"),
    ],
)
def test_bad_users_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(text)
    with pytest.raises(AuthFileError, match=message) as caught:
        load_users(path)
    assert str(path) in str(caught.value)


def test_sessions() -> None:
    auth = Authenticator({})
    session_id, session = auth.open_session(User("a", "operator"))
    assert auth.session(session_id) == session and len(session.csrf) >= 32
    auth.close_session(session_id)
    assert auth.session(session_id) is None and auth.session("forged") is None
