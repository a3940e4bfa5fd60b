"""Account pages through the real app: CSRF on every form, session cookies, rotation, sign-out, deletion."""

from __future__ import annotations

from sqlalchemy import select

from fusioncare.accounts.models import AccessToken, Role, User

HTML = {"Accept": "text/html"}


def _sign_in(client, form_token, person, next_path="/account"):
    page = client.get("/account/sign-in", headers=HTML)
    return client.post("/account/sign-in", headers=HTML, follow_redirects=False,
                       data={"csrf_token": form_token(page.text), "email": person.email,
                             "password": person.password, "next": next_path})


def test_form_post_without_a_csrf_token_is_rejected(client, make_person):
    ann = make_person("ann")
    client.get("/account/sign-in", headers=HTML)  # the browser holds a CSRF cookie, but the form lacks the token
    response = client.post("/account/sign-in", headers=HTML, follow_redirects=False,
                           data={"email": ann.email, "password": ann.password})
    assert response.status_code == 403
    assert "fc_session" not in response.cookies
    assert "Please try again" in response.text


def test_form_post_with_a_token_for_another_browser_is_rejected(client, app, make_person, form_token):
    from fastapi.testclient import TestClient

    ann = make_person("ann")
    with TestClient(app) as other_browser:
        foreign_token = form_token(other_browser.get("/account/sign-in", headers=HTML).text)
    client.get("/account/sign-in", headers=HTML)
    response = client.post("/account/sign-in", headers=HTML, follow_redirects=False,
                           data={"csrf_token": foreign_token, "email": ann.email, "password": ann.password})
    assert response.status_code == 403


def test_every_state_changing_account_form_checks_csrf(client, make_person, form_token):
    ann = make_person("ann")
    assert _sign_in(client, form_token, ann).status_code == 303
    for path, data in [("/account/sign-out", {}), ("/account/password", {"current_password": ann.password,
                                                                          "new_password": "a new long password"}),
                       ("/account/delete", {"password": ann.password}), ("/account/provider", {"npi": "1234567893"}),
                       ("/account/sign-up", {"email": "x@example.org", "password": "a new long password"}),
                       ("/account/reset", {"email": ann.email})]:
        response = client.post(path, headers=HTML, data=data, follow_redirects=False)
        assert response.status_code == 403, path
    assert client.get("/account", headers=HTML).status_code == 200, "nothing above took effect"


def test_sign_in_sets_an_httponly_samesite_session_cookie_and_rotates_it(client, make_person, form_token, db):
    ann = make_person("ann")
    first = _sign_in(client, form_token, ann)
    assert first.status_code == 303 and first.headers["location"] == "/account"
    cookie = first.headers["set-cookie"]
    assert "fc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie, "plain http in tests; Secure is set under HTTPS"
    old_secret = client.cookies.get("fc_session")

    second = _sign_in(client, form_token, ann)
    assert client.cookies.get("fc_session") != old_secret, "a new session id on every sign-in"
    assert second.status_code == 303
    live = db.scalars(select(AccessToken).where(AccessToken.revoked_at.is_(None))).all()
    assert len(live) == 1, "the previous session was revoked"


def test_session_cookie_is_secure_under_https(app, make_person, form_token):
    from fastapi.testclient import TestClient

    ann = make_person("ann")
    with TestClient(app, base_url="https://testserver") as client:
        response = _sign_in(client, form_token, ann)
    assert "Secure" in response.headers["set-cookie"]


def test_sign_in_redirects_only_within_the_site(client, make_person, form_token):
    ann = make_person("ann")
    assert _sign_in(client, form_token, ann, "https://evil.example/").headers["location"] == "/account"
    assert _sign_in(client, form_token, ann, "//evil.example/").headers["location"] == "/account"
    assert _sign_in(client, form_token, ann, "/\t/evil.example/").headers["location"] == "/account"
    assert _sign_in(client, form_token, ann, "/\\evil.example/").headers["location"] == "/account"
    assert _sign_in(client, form_token, ann, "/account/password").headers["location"] == "/account/password"


def test_pages_needing_an_account_redirect_to_sign_in(client):
    response = client.get("/account", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account/sign-in?next=/account"


def test_sign_out_revokes_the_session(client, make_person, form_token):
    ann = make_person("ann")
    _sign_in(client, form_token, ann)
    secret = client.cookies.get("fc_session")
    account = client.get("/account", headers=HTML)
    out = client.post("/account/sign-out", headers=HTML, data={"csrf_token": form_token(account.text)},
                      follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("fc_session", secret)  # a copy of the old cookie is worthless
    assert client.get("/account", headers=HTML, follow_redirects=False).status_code == 303


def test_wrong_password_on_the_form_shows_the_same_message_for_unknown_accounts(client, make_person, form_token):
    ann = make_person("ann")
    token = form_token(client.get("/account/sign-in", headers=HTML).text)
    wrong = client.post("/account/sign-in", headers=HTML, data={"csrf_token": token, "email": ann.email,
                                                                "password": "not it at all"})
    unknown = client.post("/account/sign-in", headers=HTML, data={"csrf_token": token, "email": "ghost@example.org",
                                                                  "password": "not it at all"})
    assert wrong.status_code == unknown.status_code == 400
    assert "The e-mail address or password is not right." in wrong.text
    assert wrong.text.replace(ann.email, "ghost@example.org") == unknown.text


def test_sign_up_signs_a_new_person_in_and_changes_nothing_for_an_existing_email(client, make_person, form_token):
    ann = make_person("ann")
    token = form_token(client.get("/account/sign-up", headers=HTML).text)
    new = client.post("/account/sign-up", headers=HTML, follow_redirects=False, data={
        "csrf_token": token, "email": "new@example.org", "password": "a long new password",
        "next": "/doctors/1234567893/book?type=new_patient"})
    assert new.status_code == 303 and new.headers["location"] == "/doctors/1234567893/book?type=new_patient"
    assert "fc_session=" in new.headers["set-cookie"], "signed in at once"
    client.cookies.clear()
    token = form_token(client.get("/account/sign-up", headers=HTML).text)
    old = client.post("/account/sign-up", headers=HTML, data={"csrf_token": token, "email": ann.email,
                                                              "password": "a long new password",
                                                              "next": "//evil.example"})
    assert old.status_code == 200 and "already has a FusionCare account" in old.text
    assert "fc_session" not in old.headers.get("set-cookie", "")
    assert "evil.example" not in old.text, "next is checked before it is carried on"


def test_sign_in_and_sign_up_carry_next_in_the_links_between_them(client):
    target = "/doctors/1234567893/book?type=new_patient&start=2030-01-07T09:00:00-05:00"
    encoded = "%2Fdoctors%2F1234567893%2Fbook%3Ftype%3Dnew_patient%26start%3D2030-01-07T09%3A00%3A00-05%3A00"
    sign_in = client.get("/account/sign-in", params={"next": target}, headers=HTML).text
    assert f'href="/account/sign-up?next={encoded.replace("%2F", "/")}"' in sign_in
    sign_up = client.get("/account/sign-up", params={"next": target}, headers=HTML).text
    assert f'href="/account/sign-in?next={encoded.replace("%2F", "/")}"' in sign_up
    assert 'name="next" value="/doctors/1234567893/book?type=new_patient&amp;start=' in sign_up
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil.example"):
        assert "evil" not in client.get("/account/sign-up", params={"next": bad}, headers=HTML).text


def test_sign_up_form_explains_a_weak_password_beside_the_field(client, form_token):
    token = form_token(client.get("/account/sign-up", headers=HTML).text)
    response = client.post("/account/sign-up", headers=HTML, data={"csrf_token": token, "email": "new@example.org",
                                                                   "password": "password123"})
    assert response.status_code == 400
    assert 'id="password-error"' in response.text and "most common passwords" in response.text
    assert 'value="new@example.org"' in response.text, "what was typed is kept"


def test_delete_account_page_needs_the_password_then_erases(client, make_person, form_token, saved_assessment, db):
    ann = make_person("ann")
    saved_assessment(ann)
    _sign_in(client, form_token, ann)
    token = form_token(client.get("/account", headers=HTML).text)
    refused = client.post("/account/delete", headers=HTML, data={"csrf_token": token, "password": "wrong wrong"})
    assert refused.status_code == 400
    done = client.post("/account/delete", headers=HTML, data={"csrf_token": token, "password": ann.password})
    assert done.status_code == 200 and "Your account is deleted" in done.text
    assert db.scalar(select(User.id).where(User.id == ann.id)) is None


def test_download_my_data_page_link_returns_a_json_attachment(client, make_person, form_token, saved_assessment):
    ann = make_person("ann")
    assessment_id = saved_assessment(ann)
    _sign_in(client, form_token, ann)
    response = client.get("/account/export.json")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    assert response.json()["data"]["saved_assessments"][0]["id"] == assessment_id


def test_admin_verifies_a_provider_and_reads_the_audit_log(client, make_person, form_token):
    doc = make_person("doc", npi="1234567893")
    boss = make_person("boss", role=Role.admin)
    _sign_in(client, form_token, boss)
    providers = client.get("/admin/providers", headers=HTML)
    assert "1234567893" in providers.text
    verified = client.post(f"/admin/providers/{doc.id}/verify", headers=HTML, follow_redirects=False,
                           data={"csrf_token": form_token(providers.text)})
    assert verified.headers["location"] == "/admin/providers?notice=verified"
    log = client.get("/admin/audit", headers=HTML, params={"action": "provider.verify", "outcome": "allowed"})
    assert log.status_code == 200 and "provider.verify" in log.text and "sign_in" not in log.text
    csv_export = client.get("/api/v1/admin/audit", params={"format": "csv", "action": "provider.verify"})
    assert csv_export.headers["content-type"].startswith("text/csv")
    assert csv_export.text.splitlines()[0].startswith("id,occurred_at,actor_user_id")
    assert len(csv_export.text.splitlines()) == 2
    reads = client.get("/api/v1/admin/audit", params={"action": "audit_log.read"}).json()
    assert len(reads) == 3 and {r["actor_user_id"] for r in reads} == {boss.id}, "page, CSV and this read"


def test_admin_pages_are_not_found_for_patients(client, make_person, form_token):
    _sign_in(client, form_token, make_person("ann"))
    assert client.get("/admin/audit", headers=HTML).status_code == 404
    assert client.get("/admin/providers", headers=HTML).status_code == 404


def test_reset_pages_set_a_new_password(client, make_person, form_token, caplog):
    import logging
    import re

    ann = make_person("ann")
    token = form_token(client.get("/account/reset", headers=HTML).text)
    with caplog.at_level(logging.INFO, logger="fusioncare.notifications"):
        sent = client.post("/account/reset", headers=HTML, data={"csrf_token": token, "email": ann.email})
    assert "Check your e-mail" in sent.text
    link = re.search(r"(/account/reset/confirm\?token=[A-Za-z0-9_-]+)", caplog.text).group(1)
    page = client.get(link, headers=HTML)
    done = client.post("/account/reset/confirm", headers=HTML, follow_redirects=False,
                       data={"csrf_token": form_token(page.text), "new_password": "a fresh long password"})
    assert done.status_code == 303 and done.headers["location"] == "/account/sign-in?notice=password_reset"
    again = client.post("/account/reset/confirm", headers=HTML,
                        data={"csrf_token": form_token(page.text), "new_password": "another fresh password"})
    assert again.status_code == 400 and "not valid any more" in again.text


def test_the_reset_link_lands_on_a_page_without_the_token_in_its_address(client, make_person, form_token, db):
    """The e-mailed link carries the token; the landing request keeps it in a short-lived HttpOnly cookie and
    redirects to an address without it, so it is not left in the address bar, the history or any later log."""
    import re
    from datetime import timedelta

    from fusioncare.accounts import service

    class Outbox:
        body = ""

        def send(self, *, to, subject, body):
            Outbox.body = body

    ann = make_person("ann")
    service.request_password_reset(db, email=ann.email, client_address="test", notifier=Outbox(),
                                   base_url="http://testserver", lifetime=timedelta(minutes=30))
    secret = re.search(r"token=([A-Za-z0-9_-]+)", Outbox.body).group(1)

    landing = client.get(f"/account/reset/confirm?token={secret}", headers=HTML, follow_redirects=False)
    assert landing.status_code == 303 and landing.headers["location"] == "/account/reset/confirm"
    cookie = landing.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/account/reset" in cookie and "Max-Age=1800" in cookie
    page = client.get("/account/reset/confirm", headers=HTML)
    assert page.status_code == 200 and secret not in page.text and str(page.url).endswith("/account/reset/confirm")
    done = client.post("/account/reset/confirm", headers=HTML, follow_redirects=False,
                       data={"csrf_token": form_token(page.text), "new_password": "a fresh long password"})
    assert done.status_code == 303
    assert 'fc_reset=""' in done.headers["set-cookie"] or "Max-Age=0" in done.headers["set-cookie"]


def test_the_reset_page_without_a_link_says_to_ask_for_a_new_one(client):
    page = client.get("/account/reset/confirm", headers=HTML)
    assert page.status_code == 400 and "not valid any more" in page.text
