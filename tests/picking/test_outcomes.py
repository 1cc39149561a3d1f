"""The evaluation tells episodes lost after a question nobody answered from wrong decisions."""

from otemachi.picking.evaluate import Outcome, summary


def _row(final_ok: bool, questions: int, unanswered: int) -> Outcome:
    return Outcome("e", "test", "basic", final_ok, final_ok, True, questions, None, 1.0, 1.0,
                   None, 3, None, unanswered)  # fmt: skip


def test_lost_episodes_are_split_by_whether_a_question_went_unanswered() -> None:
    rows = [_row(False, 1, 1), _row(False, 2, 1), _row(False, 0, 0), _row(True, 1, 1)]
    got = summary(rows)
    assert got["lost_unanswered"] == 2 and got["lost_decided"] == 1
    assert got["questions_asked"] == 4 and got["target_accuracy_clarified"] == 0.25
    assert summary([_row(True, 0, 0)])["lost_unanswered"] == 0
