#include <catch2/catch.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

#include "syntax/grammar.hpp"

using namespace persona::lang;

TEST_CASE("the recipe grammar has no infinite loops or empty repetitions") {
  CHECK(tao::pegtl::analyze<grammar::recipe>(1) == 0);
}

TEST_CASE("the condition grammar has no infinite loops or empty repetitions") {
  CHECK(tao::pegtl::analyze<grammar::condition_only>(1) == 0);
}
