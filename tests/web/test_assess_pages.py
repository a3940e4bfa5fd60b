"""The assessment journey over HTTP (TestClient, both databases): post/redirect/get at every step, answers kept
server-side in a draft only its own browser can read, contract 1.1 questions only where they matter, the
emergency shown right after the answer that makes it one, the result at its own address, saving it."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fusioncare.assessment_drafts.models import AssessmentDraft
from fusioncare.directory.npi import with_check_digit
from fusioncare.knowledge.loader import get_pack
from fusioncare.scheduling.models import Appointment
from fusioncare.triage import records
from fusioncare.triage.models import SavedAssessment
from fusioncare.triage.schemas import AssessmentRequest
from fusioncare.triage.service import assess
from tests.scheduling.builders import bookable_provider, future_day

from .pagescan import scan
from .walker import (
    HTML,
    RESULT_PATH,
    ROUTINE,
    STEP_PATH,
    csrf,
    fill,
    is_result,
    post,
    questionnaire_form,
    step_number,
    submit,
    walk,
)


def start(client: TestClient):
    return client.get("/assess", headers=HTML)


def heading(response) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", response.text, re.S).group(1)).strip()


def through_pain(client: TestClient, answers: dict | None = None):
    response = submit(client, start(client), {**ROUTINE, **(answers or {})})
    return submit(client, response, {**ROUTINE, **(answers or {})})


def test_the_check_starts_a_draft_of_this_browser_at_an_address_without_answers(client):
    first = client.get("/assess", headers=HTML, follow_redirects=False)
    assert first.status_code == 303 and STEP_PATH.match(first.headers["location"])
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("fc_assess=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get(first.headers["location"], headers=HTML)
    assert page.status_code == 200 and step_number(page) == 1
    assert [v for _, v, _ in questionnaire_form(page.text).buttons] == ["next"]
    assert page.headers["cache-control"] == "no-store"


def test_every_step_post_answers_with_a_303_to_a_page_never_with_a_page(client):
    response = start(client)
    for answers in ({}, ROUTINE, ROUTINE, {"symptoms": []}):
        form = questionnaire_form(response.text)
        direct = client.post(form.action, data=dict(fill(form, answers, "next")), headers=HTML,
                             follow_redirects=False)
        assert direct.status_code == 303 and direct.text == ""
        response = client.get(direct.headers["location"], headers=HTML)


def test_surgery_step_with_nothing_answered_says_what_to_do_beside_each_field(client):
    response = submit(client, start(client), {"surgery_time_amount": ""})
    assert response.status_code == 422 and step_number(response) == 1
    assert scan(response.text).field_errors == {
        "surgery_time_amount": "Error: Enter how long ago your operation was, for example 3 months or 2 years",
        "fusion_region": "Error: Choose where in your spine the fusion is",
        "fusion_approach": "Error: Choose how the surgeon reached your spine, or choose “Not sure”",
        "sciatica_before_surgery": "Error: Choose Yes or No: did you have sciatica before the operation?",
    }


@pytest.mark.parametrize(("field", "value", "message"), [
    ("surgery_time_amount", "-1", "Enter a number that is 0 or more"),
    ("surgery_time_amount", "601", "Enter a time of at most 50 years (600 months)"),
    ("surgery_time_amount", "soon", "Enter how long ago your operation was as a number, for example 3 or 2.5"),
    ("surgery_time_amount", "nan", "Enter how long ago your operation was as a number, for example 3 or 2.5"),
    ("age", "15", "Enter your age in whole years, from 16 to 120, or leave it empty"),
    ("age", "sixty", "Enter your age in whole years, from 16 to 120, or leave it empty"),
    ("age", "64.5", "Enter your age in whole years, from 16 to 120, or leave it empty"),
])
def test_a_wrong_surgery_answer_is_explained_beside_it_and_the_others_are_kept(client, field, value, message):
    response = submit(client, start(client), {**ROUTINE, field: value})
    assert response.status_code == 422
    assert scan(response.text).field_errors == {field: f"Error: {message}"}
    form = questionnaire_form(response.text)
    checked = {(name, v) for kind, name, v, on in form.inputs if on and kind == "radio"}
    kept = {("fusion_region", "lumbar"), ("fusion_approach", "posterior"), ("sciatica_before_surgery", "yes")}
    assert kept <= checked
    assert ("text", field, value, False) in form.inputs


def test_years_over_fifty_are_refused_like_months_over_six_hundred(client):
    response = submit(client, start(client), {**ROUTINE, "surgery_time_amount": "51", "surgery_time_unit": "years"})
    assert scan(response.text).field_errors == {
        "surgery_time_amount": "Error: Enter a time of at most 50 years (600 months)"}


def test_pain_step_problems_are_shown_beside_their_fields_and_what_was_chosen_is_kept(client):
    step2 = submit(client, start(client), ROUTINE)
    response = submit(client, step2, {"leg_pain": "4", "trend": "worsening"})
    assert response.status_code == 422 and step_number(response) == 2
    assert scan(response.text).field_errors == {
        "back_pain": "Error: Choose a number from 0 to 10 for your back pain",
        "constant_pain": "Error: Choose Yes or No: is the pain there all the time?",
        "onset": "Error: Choose how fast it came on, or choose “Not sure”"}
    form = questionnaire_form(response.text)
    assert ("radio", "leg_pain", "4", True) in form.inputs and ("radio", "trend", "worsening", True) in form.inputs


def test_back_goes_to_the_previous_step_unchecked_and_both_steps_keep_their_answers(client):
    step2 = submit(client, start(client), {**ROUTINE, "age": "87"})
    back = submit(client, step2, {"leg_pain": "9"}, action="back")
    assert back.status_code == 200 and step_number(back) == 1
    form = questionnaire_form(back.text)
    assert ("radio", "fusion_region", "lumbar", True) in form.inputs and ("text", "age", "87", False) in form.inputs
    again = submit(client, back)
    assert ("radio", "leg_pain", "9", True) in questionnaire_form(again.text).inputs


def test_every_step_and_the_result_load_again_from_their_own_address(client):
    visited = []
    response = start(client)
    while not is_result(response):
        visited.append((response.url.path, heading(response)))
        response = submit(client, response, {**ROUTINE, "symptoms": ["walking_leg_pain"]})
    for path, title in visited:  # Back, Forward and refresh are GETs of these addresses
        again = client.get(path, headers=HTML)
        assert again.status_code == 200 and heading(again) == title
    refreshed = client.get(response.url.path, headers=HTML)
    assert refreshed.status_code == 200 and heading(refreshed) == heading(response)


def titles_of_walk(client: TestClient, answers: dict) -> list[str]:
    response, titles = start(client), []
    while not is_result(response):
        titles.append(heading(response))
        response = submit(client, response, answers)
    return titles


def test_neck_questions_only_after_a_neck_fusion_and_belly_questions_only_after_a_front_side_or_unknown_approach(
        client):
    pack = get_pack()
    neck = next(g.title for g in pack.question_groups if g.code == "neck")
    belly = next(g.title for g in pack.question_groups if g.code == "belly")
    lumbar_back = titles_of_walk(client, ROUTINE)
    assert neck not in lumbar_back and belly not in lumbar_back
    assert "Your health" in lumbar_back and lumbar_back[-1] == "Treatments you have tried"
    neck_front = titles_of_walk(client, {**ROUTINE, "fusion_region": "cervical", "fusion_approach": "anterior"})
    assert neck in neck_front and belly in neck_front
    assert belly in titles_of_walk(client, {**ROUTINE, "fusion_approach": "unknown"})
    assert belly in titles_of_walk(client, {**ROUTINE, "fusion_approach": "lateral"})


def test_a_routine_walk_through_the_1_1_questions_gives_the_engines_result_for_the_same_answers(client):
    answers = {**ROUTINE, "age": "58", "onset": "weeks", "fusion_approach": "lateral",
               "risk_factors": ["diabetes", "smoking"], "treatments_tried": ["physical_therapy"]}
    response = walk(client, answers)
    expected = assess(request=AssessmentRequest(
        months_since_surgery=2, leg_pain=3, back_pain=3, trend="improving", sciatica_before_surgery=True, age=58,
        onset="weeks", fusion_approach="lateral", risk_factors=["diabetes", "smoking"],
        treatments_tried=["physical_therapy"]))
    assert expected.urgency == "routine"
    text = scan(response.text).text
    whys = [s.why for s in expected.recommended_specialties]
    for part in (expected.headline, *[r.text for r in expected.reasons], *whys,
                 *[w.text for w in expected.warning_signs], *[t.summary for t in expected.treatment_options],
                 *expected.next_steps, expected.disclaimer):
        assert part in text
    assert "2 months ago, lower back (lumbar), from the side" in text and "You have diabetes" in text


def test_each_specialty_keeps_its_own_explanation_on_the_result(client):
    response = walk(client, {**ROUTINE, "surgery_time_amount": "7", "surgery_time_unit": "years", "leg_pain": "6",
                             "trend": "worsening", "symptoms": ["walking_leg_pain"]})
    html = response.text
    whys = re.findall(r'<li class="specialty[^"]*">\s*<h3>.*?</h3>\s*<p>(.*?)</p>', html, re.S)
    assert len(whys) >= 2 and len(set(whys)) == len(whys)


def test_saddle_numbness_and_bladder_trouble_on_step_3_show_the_emergency_on_the_very_next_page(client):
    step3 = through_pain(client)
    assert step_number(step3) == 3
    response = submit(client, step3, {"symptoms": ["saddle_numbness", "bladder_dysfunction"]})
    assert is_result(response)
    page = scan(response.text)
    assert "Call 911 or go to the emergency department now" in page.text and 'href="tel:911"' in response.text
    say = re.search(r'<p class="say">(.*?)</p>', response.text, re.S).group(1)
    assert "saddle area between my legs" in say and "bottom" not in say
    assert "new problems passing urine" in say
    main = response.text[response.text.index("<main"):]
    assert main.index('href="tel:911"') < main.index("Find the nearest emergency department")
    assert "Find doctors near me" not in response.text
    assert "only to add details for the doctors" in page.text
    # Specialties that would delay emergency care are not offered.
    whom = re.findall(r'<li class="specialty[^"]*">\s*<h3>(.*?)</h3>', response.text, re.S)
    assert [re.sub(r"<[^>]+>", "", w).replace("See first", "").strip() for w in whom] == [
        "Emergency medicine", "Spine surgeon"]


def test_the_steps_after_an_emergency_keep_saying_what_to_do_now(client):
    result = submit(client, through_pain(client), {"symptoms": ["bowel_incontinence"]})
    follow = re.search(r'href="(/assess/d/[\w-]+/step/[0-9a-f]{16})">Answer the rest', result.text).group(1)
    step = client.get(follow, headers=HTML)
    assert 'class="callout callout-now callout-now-emergency"' in step.text and 'href="tel:911"' in step.text
    after = submit(client, step, {})
    assert not is_result(after), "the same emergency is not shown twice"
    assert "callout-now-emergency" in after.text


def test_sexual_function_question_separates_lost_genital_feeling_from_erection_changes(client):
    step3 = through_pain(client)
    radios = [v for kind, name, v, _ in questionnaire_form(step3.text).inputs if kind == "radio"]
    assert radios == ["", "sexual_dysfunction", "erection_or_ejaculation_change"]
    changed = submit(client, step3, {"symptoms": ["erection_or_ejaculation_change"]})
    assert not is_result(changed), "erection changes with normal feeling are not an emergency"
    lost = submit(client, through_pain(client), {"symptoms": ["sexual_dysfunction"]})
    assert is_result(lost) and "Call 911" in lost.text


def test_the_before_your_operation_question_asks_only_about_ticked_symptoms_that_may_be_long_standing(client):
    pack = get_pack()
    may = {s.code.value for s in pack.symptoms if s.may_be_long_standing}
    response = through_pain(client, {"surgery_time_amount": "3", "surgery_time_unit": "years"})
    while "Your legs" not in heading(response):
        response = submit(client, response, {})
    response = submit(client, response, {"symptoms": ["foot_drop", "walking_leg_pain"]})
    assert heading(response) == "Were any of these there before your operation?"
    boxes = [v for kind, name, v, _ in questionnaire_form(response.text).inputs if kind == "checkbox"]
    assert boxes == ["foot_drop"] and set(boxes) <= may
    after = submit(client, response, {"long_standing_symptoms": ["foot_drop"]})
    result = walk(client, {}, start=after)
    expected = assess(request=AssessmentRequest(
        months_since_surgery=36, leg_pain=3, back_pain=3, trend="improving", sciatica_before_surgery=True,
        fusion_approach="posterior", onset="months", symptoms=["foot_drop", "walking_leg_pain"],
        long_standing_symptoms=["foot_drop"]))
    assert f'class="urgency urgency-{expected.urgency.value}"' in result.text
    assert "there before the operation, no worse" in result.text


def test_an_alarming_symptom_waits_for_the_before_question_only_when_it_could_change_the_answer(client):
    """Foot drop three years on: the before-question comes first (an old foot drop is not urgent). A leg getting
    weaker on the same page is an emergency whatever the answer, so the result comes at once."""
    response = through_pain(client, {"surgery_time_amount": "3", "surgery_time_unit": "years"})
    while "Your legs" not in heading(response):
        response = submit(client, response, {})
    both = submit(client, response, {"symptoms": ["foot_drop", "leg_weakness_progressive"]})
    expected = assess(request=AssessmentRequest(
        months_since_surgery=36, leg_pain=3, back_pain=3, trend="improving", fusion_approach="posterior",
        symptoms=["foot_drop", "leg_weakness_progressive"], long_standing_symptoms=["foot_drop"]))
    assert expected.urgency in ("urgent", "emergency") and is_result(both)


def test_answers_to_steps_that_no_longer_apply_are_left_out(client):
    response = through_pain(client, {"fusion_region": "cervical"})
    while "neck" not in heading(response).lower():
        response = submit(client, response, {})
    first = questionnaire_form(response.text)
    assert any(v == "hand_clumsiness" for _, _, v, _ in first.inputs)
    response = submit(client, response, {"symptoms": []})
    to_start = client.get(re.sub(r"/step/.*", "", response.url.path) + "/result", headers=HTML)
    step1 = client.get(re.search(r'href="(/assess/d/[\w-]+/step/[0-9a-f]{16})">Change my answers',
                                 to_start.text).group(1), headers=HTML)
    result = walk(client, {**ROUTINE, "symptoms": ["hand_clumsiness"]}, start=step1)
    assert "Clumsy, weak or numb hands" not in scan(result.text).text


def test_a_form_changes_only_its_own_steps_answers(client):
    step1 = start(client)
    form = questionnaire_form(step1.text)
    response = post(client, form.action, fill(form, {**ROUTINE, "leg_pain": "10"}, "next")
                    + [("symptoms", "saddle_numbness")])
    step3 = submit(client, response, ROUTINE)
    result = walk(client, {}, start=step3)
    assert 'urgency-emergency' not in result.text and "Leg pain</dt><dd>3 out of 10" in result.text


def test_the_result_and_steps_are_only_for_the_browser_that_made_them(client, app):
    result = walk(client, {**ROUTINE, "age": "87", "symptoms": ["night_pain"]})
    step_path = re.search(r'href="(/assess/d/[\w-]+/step/[0-9a-f]{16})">Change my answers', result.text).group(1)
    with TestClient(app) as other:
        for path in (result.url.path, step_path, result.url.path.replace("/result", "").replace("/assess/d/",
                                                                                                  "/matches/")):
            seen = other.get(path, headers=HTML)
            assert "87" not in scan(seen.text).text and "Pain at night" not in seen.text
            assert seen.url.path != path or "We need your answers first" in seen.text
        fresh = other.get(result.url.path, headers=HTML)
        assert step_number(fresh) == 1 and "fresh start" in fresh.text
        assert questionnaire_form(fresh.text).action.split("/")[3] != result.url.path.split("/")[3]
    assert client.get(result.url.path, headers=HTML).status_code == 200


def test_an_expired_draft_is_a_fresh_start_and_expired_drafts_are_purged_on_the_next_write(client, db):
    result = walk(client, ROUTINE)
    db.execute(AssessmentDraft.__table__.update().values(expires_at=datetime.now(ZoneInfo("UTC")) - timedelta(1)))
    db.commit()
    again = client.get(result.url.path, headers=HTML)
    assert step_number(again) == 1 and "fresh start" in again.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AssessmentDraft)) == 1  # only the new one


def test_a_browser_that_keeps_no_cookie_is_told_instead_of_going_round_in_circles(app):
    with TestClient(app, cookies=None) as client:
        client.cookies = None  # type: ignore[assignment]
        first = client.get("/assess", headers=HTML, follow_redirects=False)
        step = client.get(first.headers["location"], headers={**HTML, "cookie": ""}, follow_redirects=False)
        assert step.status_code == 303 and step.headers["location"] == "/assess?restart=1"
        page = client.get("/assess?restart=1", headers={**HTML, "cookie": ""}, follow_redirects=False)
        assert page.status_code == 200 and "This check needs a cookie" in page.text


def _sign_in(client: TestClient, person, next_path: str):
    page = client.get(f"/account/sign-in?next={next_path}", headers=HTML)
    return client.post("/account/sign-in", data={"email": person.email, "password": person.password,
                                                 "next": next_path, "csrf_token": csrf(page)}, headers=HTML)


def test_anonymous_save_goes_to_sign_in_and_comes_back_to_the_result_with_save_offered(client, make_person):
    person = make_person("ann")
    result = walk(client, ROUTINE)
    assert "Sign in to save" in result.text
    asked = client.post(result.url.path.replace("/result", "/save"), data={"csrf_token": csrf(result)},
                        headers=HTML, follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/account/sign-in?next=")
    back = _sign_in(client, person, result.url.path + "#save")
    assert RESULT_PATH.match(back.url.path) and back.url.path == result.url.path
    assert "Save to my account" in back.text


def test_a_signed_in_patient_saves_the_result_and_the_booking_form_shares_it(client, make_person, db, tmp_path):
    person = make_person("bea")
    npi = with_check_digit("170000009")
    bookable_provider(db, tmp_path, npi)
    _sign_in(client, person, "/account")
    before = client.get(f"/doctors/{npi}/book", headers=HTML)
    assert 'name="share"' not in before.text, "nothing saved yet: no box that would share nothing"
    assert "You have no saved symptom check to share" in scan(before.text).text
    result = walk(client, {**ROUTINE, "symptoms": ["walking_leg_pain"]})
    saved = client.post(result.url.path.replace("/result", "/save"), data={"csrf_token": csrf(result)},
                        headers=HTML)
    assert saved.url.path == result.url.path and "Saved to your account" in saved.text
    client.post(result.url.path.replace("/result", "/save"), data={"csrf_token": csrf(saved)}, headers=HTML)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SavedAssessment)) == 1, "saving twice stores it once"
    latest = records.latest_id_for_owner(db, owner_id=person.id)
    stored = db.get(SavedAssessment, latest)
    assert stored.request["symptoms"] == ["walking_leg_pain"] and stored.request["fusion_approach"] == "posterior"
    start_at = datetime.combine(future_day(), time(9), tzinfo=ZoneInfo("America/New_York")).isoformat()
    book = client.get(f"/doctors/{npi}/book", headers=HTML)
    assert "Share my latest saved symptom check" in book.text
    booked = client.post(f"/doctors/{npi}/book", data={"start": start_at, "type": "new_patient", "share": "yes",
                                                      "patient_name": "Bea Example", "csrf_token": csrf(book)},
                         headers=HTML)
    assert booked.status_code == 200, booked.text
    db.expire_all()
    assert db.scalar(select(Appointment.shared_assessment_id)) == latest
    assert "Your symptom check Shared with this doctor" in scan(booked.text).text, "the patient sees it was shared"


def test_nothing_goes_into_an_account_unless_saved(client, db):
    walk(client, {**ROUTINE, "symptoms": ["low_mood"]})
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SavedAssessment)) == 0


def test_a_submission_far_bigger_than_a_step_is_refused_with_a_page(client):
    step1 = start(client)
    response = client.post(questionnaire_form(step1.text).action,
                           data={"symptoms": [f"s{i}" for i in range(500)]}, headers=HTML)
    assert response.status_code == 400 and 'href="/static/app.css"' in response.text


def test_answers_shown_again_are_escaped_not_run(client):
    evil = '"><script>alert(1)</script>'
    response = submit(client, start(client), {**ROUTINE, "surgery_time_amount": evil})
    assert response.status_code == 422 and "<script>alert" not in response.text
    assert scan(response.text).inline_problems == []


def test_an_unknown_step_address_goes_to_step_one_of_the_same_draft(client):
    step1 = start(client)
    draft_path = step1.url.path.rsplit("/", 1)[0]
    response = client.get(draft_path + "/0000000000000000", headers=HTML)
    assert response.url.path == step1.url.path


def test_a_step_post_without_the_csrf_token_is_refused(client):
    step1 = start(client)
    form = questionnaire_form(step1.text)
    data = [(n, v) for n, v in fill(form, ROUTINE, "next") if n != "csrf_token"]
    refused = post(client, form.action, data)
    assert refused.status_code == 403
