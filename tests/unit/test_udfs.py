from udfs import JAVA_FUNCTIONS, JAVA_PROJECT, job_parameters


def test_every_registered_class_has_its_source() -> None:
    for java_class in JAVA_FUNCTIONS.values():
        source = JAVA_PROJECT / "src" / "main" / "java" / (java_class.replace(".", "/") + ".java")
        assert source.is_file(), java_class


def test_job_parameters_quote_each_entry_for_flinks_map_parser() -> None:
    assert job_parameters("http://h:8080/apis/ccompat/v7", 5000) == (
        "\"'sportsfeat.registry.url':'http://h:8080/apis/ccompat/v7'\","
        "\"'sportsfeat.registry.max-wait-ms':'5000'\""
    )
