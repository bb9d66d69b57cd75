from udfs import JAVA_FUNCTIONS, JAVA_PROJECT


def test_every_registered_class_has_its_source() -> None:
    for java_class in JAVA_FUNCTIONS.values():
        source = JAVA_PROJECT / "src" / "main" / "java" / (java_class.replace(".", "/") + ".java")
        assert source.is_file(), java_class
