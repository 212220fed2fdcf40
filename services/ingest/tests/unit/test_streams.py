from shkala_ingest.domain.streams import stream_partition


def test_a_stream_is_kept_per_school_and_fact_family() -> None:
    oid = "ru.shkala.fact.assessment_result:0123456789abcdef0123456789abcdef"
    assert stream_partition("sch-0001", oid) == "sch-0001.assessment_result"
    other = "ru.shkala.fact.attendance_month:0123456789abcdef0123456789abcdef"
    assert stream_partition("sch-0001", other) != stream_partition("sch-0001", oid)
    assert stream_partition("sch-0002", oid) != stream_partition("sch-0001", oid)
