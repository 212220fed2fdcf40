"""What the school card says about why a school is in a list, and the heatmap layout."""

from __future__ import annotations

from shkala_web.service_layer.pages import direction_page, heatmap, school_page, school_vpr

from .fakes import FakeReader, indicator

CAT = {
    "indicators": [
        {
            "id": "vpr2",
            "name": {"ru": "Доля «2» ВПР"},
            "unit": "percent",
            "threshold": {"risk_if": "above", "value": 20.0},
        },
        {
            "id": "ege",
            "name": {"ru": "Высокобалльники"},
            "unit": "percent",
            "threshold": {"risk_if": "below", "value": 5.0},
        },
    ],
    "lists": [{"list": "ШНОР", "indicators": ["vpr2", "ege"], "min_count": 2, "always": []}],
}


async def test_why_a_school_is_listed_names_the_criteria_with_their_counts() -> None:
    card = {
        "school": {"school_id": "s1", "name": "СОШ", "municipality_id": "m"},
        "indicators": [
            indicator(
                "vpr2",
                "Доля «2» ВПР",
                "percent",
                "above",
                20.0,
                [("2024/25", 10.0, 1, 10, False), ("2025/26", 50.0, 4, 8, True)],
            ),
            indicator(
                "ege", "Высокобалльники", "percent", "below", 5.0, [("2025/26", 0.0, 0, 3, True)]
            ),
        ],
        "lists": [
            {"list": "ШНОР", "period": "2025/26", "member": True, "reasons": ["vpr2", "ege"]},
            {"list": "ШНОР", "period": "2024/25", "member": False, "reasons": []},
        ],
    }
    api = FakeReader(
        {
            ("indicators", "/schools/s1"): card,
            ("indicators", "/schools/s1/vpr-tasks"): {"tasks": [], "deficits": [], "threshold": 50},
        }
    )
    page = await school_page(api, CAT, "s1", "2025/26")
    [m] = page["memberships"]
    assert m["list"] == "ШНОР"
    assert m["min_count"] == 2
    assert m["of"] == 2
    assert [(c["id"], c["value"], c["numerator"], c["denominator"]) for c in m["fired"]] == [
        ("vpr2", 50.0, 4, 8),
        ("ege", 0.0, 0, 3),
    ]
    vpr = next(i for i in page["indicators"] if i["id"] == "vpr2")
    assert vpr["at_risk_now"]
    assert vpr["now"]["value"] == 50.0
    assert not [c for c in api.calls if c[1].endswith("/vpr-tasks")]  # asked for separately

    earlier = await school_page(api, CAT, "s1", "2024/25")
    assert earlier["memberships"] == []


def test_heatmap_rows_by_subject_and_grade_tasks_in_natural_order() -> None:
    tasks = [
        {"subject": "математика", "grade": 5, "task": t, "rate": 50.0}
        for t in ("10", "2", "1.2", "1.1")
    ] + [{"subject": "русский язык", "grade": 4, "task": "1", "rate": 40.0}]
    rows = heatmap(tasks)
    assert [(r["subject"], r["grade"]) for r in rows] == [("математика", 5), ("русский язык", 4)]
    assert [t["task"] for t in rows[0]["tasks"]] == ["1.1", "1.2", "2", "10"]


async def test_direction_view_puts_each_schools_value_in_its_cell() -> None:
    api = FakeReader(
        {
            ("indicators", "/directions/talents"): {
                "indicators": [{"id": "olymp", "name": {"ru": "Олимпиады"}, "unit": "percent"}],
                "values": [
                    {"scope": "school", "unit_id": "s2", "indicator_id": "olymp", "value": 7.0},
                    {
                        "scope": "municipality",
                        "unit_id": "m",
                        "indicator_id": "olymp",
                        "value": 5.0,
                    },
                ],
            },
            ("indicators", "/org-units"): {
                "units": [
                    {"id": "m", "kind": "municipality", "name": "МО"},
                    {"id": "s1", "kind": "school", "name": "Б", "municipality_id": "m"},
                    {"id": "s2", "kind": "school", "name": "А", "municipality_id": "m"},
                    {"id": "x", "kind": "school", "name": "В", "municipality_id": "other"},
                ]
            },
        }
    )
    page = await direction_page(api, "m", "talents", "2025/26")
    assert [s["id"] for s in page["schools"]] == ["s2", "s1"]  # by name, only this municipality
    assert page["cells"]["s2|olymp"]["value"] == 7.0
    assert "s1|olymp" not in page["cells"]
    assert page["total"]["olymp"]["value"] == 5.0
    assert ("indicators", "/directions/talents", {"period": "2025/26", "municipality": "m"}) in (
        api.calls
    )


async def test_the_vpr_section_is_asked_for_the_period_shown() -> None:
    tasks = [
        {"subject": "математика", "grade": 5, "task": "2", "rate": 40.0, "deficit": True},
        {"subject": "математика", "grade": 5, "task": "1", "rate": 80.0, "deficit": False},
    ]
    api = FakeReader(
        {("indicators", "/schools/s1/vpr-tasks"): {"tasks": tasks, "deficits": tasks[:1]}}
    )
    vpr = await school_vpr(api, "s1", "2024/25")
    assert api.calls == [("indicators", "/schools/s1/vpr-tasks", {"period": "2024/25"})]
    [row] = vpr["heatmap"]
    assert [t["task"] for t in row["tasks"]] == ["1", "2"]
    assert vpr["vpr"]["deficits"] == tasks[:1]
