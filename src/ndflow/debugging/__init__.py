"""`tf.debugging`: assertions on tensor values (checked on every call inside
`ndflow.function`) and `check_numerics`."""

from ndflow.util.assertions import (
    assert_all_finite, assert_equal, assert_greater, assert_greater_equal, assert_less,
    assert_less_equal, assert_near, assert_negative, assert_non_negative, assert_non_positive,
    assert_none_equal, assert_positive, assert_rank, assert_rank_at_least, assert_type,
    check_numerics,
)

__all__ = ["assert_all_finite", "assert_equal", "assert_greater", "assert_greater_equal",
           "assert_less", "assert_less_equal", "assert_near", "assert_negative",
           "assert_non_negative", "assert_non_positive", "assert_none_equal", "assert_positive",
           "assert_rank", "assert_rank_at_least", "assert_type", "check_numerics"]
