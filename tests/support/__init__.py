"""What the tests share: the one command-line runner (:mod:`tests.support.cli`), the one wait
helper (:mod:`tests.support.wait`), project builders (:mod:`tests.support.builders`), the
private virtual microphone (:mod:`tests.support.audio_env`), the throwaway PostgreSQL server
(:mod:`tests.support.pg_server`) and the speech material. Test modules import from here (and
conftest), never from one another (tests/unit/test_suite_shape.py checks)."""
