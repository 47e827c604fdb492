// Dim: parsing, canonical printing, algebra, evaluation, exact division, and parse errors.
#include "ir/dim.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

Dim parse_ok(const std::string& text) {
  auto d = Dim::parse(text);
  EXPECT_TRUE(d.is_ok()) << text << ": " << d.status().to_string();
  return d.is_ok() ? d.value() : Dim(-999);
}

std::string parse_error(const std::string& text) {
  auto d = Dim::parse(text);
  EXPECT_FALSE(d.is_ok()) << text << " parsed as " << (d.is_ok() ? d->to_string() : "");
  return d.is_ok() ? "" : d.status().message();
}

TEST(DimTest, StaticAndSymbol) {
  EXPECT_TRUE(Dim(5).is_static());
  EXPECT_EQ(Dim(5).value(), 5);
  EXPECT_EQ(Dim(0).value(), 0);
  EXPECT_EQ(Dim().to_string(), "0");
  const Dim b = Dim::symbol("batch");
  EXPECT_FALSE(b.is_static());
  EXPECT_EQ(b.to_string(), "batch");
  EXPECT_NE(b, Dim(1));
}

TEST(DimTest, CanonicalPrinting) {
  EXPECT_EQ(parse_ok("batch + batch").to_string(), "2*batch");
  EXPECT_EQ(parse_ok("seq*batch+1").to_string(), "batch*seq + 1");
  EXPECT_EQ(parse_ok("1 + batch*seq").to_string(), "batch*seq + 1");
  EXPECT_EQ(parse_ok("(batch+1)*(batch-1)").to_string(), "batch*batch - 1");
  EXPECT_EQ(parse_ok("-batch + 2*batch").to_string(), "batch");
  EXPECT_EQ(parse_ok("seq + batch").to_string(), "batch + seq");
  EXPECT_EQ(parse_ok("3 - 5").to_string(), "-2");
  EXPECT_EQ(parse_ok("  x  ").to_string(), "x");
  EXPECT_EQ(parse_ok("-(a - b)").to_string(), "-a + b");
  EXPECT_EQ(parse_ok("2*a - 3*b*c").to_string(), "-3*b*c + 2*a");
  EXPECT_EQ(parse_ok("batch - batch").to_string(), "0");
  EXPECT_TRUE(parse_ok("batch - batch").is_static());
  EXPECT_EQ(parse_ok("_a1 * B_2").to_string(), "B_2*_a1");
}

TEST(DimTest, EqualityIsAlgebraic) {
  EXPECT_EQ(parse_ok("2*batch"), parse_ok("batch+batch"));
  EXPECT_EQ(parse_ok("(a+b)*(a+b)"), parse_ok("a*a + 2*a*b + b*b"));
  EXPECT_NE(parse_ok("a*b"), parse_ok("a+b"));
  EXPECT_EQ(Dim::symbol("n") * Dim(3), parse_ok("3*n"));
  EXPECT_EQ(Dim::symbol("n") - Dim::symbol("n"), Dim(0));
}

TEST(DimTest, ToStringRoundTrips) {
  for (const char* text :
       {"batch", "2*batch", "batch*seq + 1", "-a + b - 7", "a*a*b - 2*a + 3",
        "-9223372036854775807 - 1", "x - 9223372036854775807 - 1", "9223372036854775807*x"}) {
    const Dim d = parse_ok(text);
    EXPECT_EQ(parse_ok(d.to_string()), d) << text << " -> " << d.to_string();
  }
  EXPECT_EQ(parse_ok("-9223372036854775807 - 1").value(), INT64_MIN);
  EXPECT_EQ(parse_ok("-9223372036854775807 - 1").to_string(), "-9223372036854775808");
}

TEST(DimTest, Symbols) {
  EXPECT_EQ(parse_ok("b*a + a*a + c").symbols(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(Dim(4).symbols().empty());
}

TEST(DimTest, Evaluate) {
  const Dim d = parse_ok("2*batch + seq*batch - 1");
  EXPECT_EQ(d.evaluate({{"batch", 3}, {"seq", 4}}), 17);
  EXPECT_EQ(d.evaluate({{"batch", 3}}), std::nullopt);
  EXPECT_EQ(parse_ok("a*a").evaluate({{"a", int64_t(1) << 32}}), std::nullopt);  // overflow
  EXPECT_EQ(Dim(7).evaluate({}), 7);
}

TEST(DimTest, DivideExact) {
  EXPECT_EQ(Dim(12).divide_exact(Dim(4)), Dim(3));
  EXPECT_EQ(Dim(12).divide_exact(Dim(5)), std::nullopt);
  EXPECT_EQ(Dim(12).divide_exact(Dim(0)), std::nullopt);
  EXPECT_EQ(parse_ok("64*batch*seq").divide_exact(Dim::symbol("batch")), parse_ok("64*seq"));
  EXPECT_EQ(parse_ok("64*batch*seq").divide_exact(parse_ok("8*seq")), parse_ok("8*batch"));
  EXPECT_EQ(parse_ok("2*batch + 2").divide_exact(Dim(2)), parse_ok("batch + 1"));
  EXPECT_EQ(parse_ok("3*batch").divide_exact(Dim(2)), std::nullopt);
  EXPECT_EQ(parse_ok("batch*seq + batch").divide_exact(parse_ok("seq + 1")), Dim::symbol("batch"));
  EXPECT_EQ(parse_ok("a*a - 1").divide_exact(parse_ok("a - 1")), parse_ok("a + 1"));
  EXPECT_EQ(parse_ok("batch + 1").divide_exact(Dim::symbol("batch")), std::nullopt);
  EXPECT_EQ(Dim::symbol("a").divide_exact(Dim::symbol("b")), std::nullopt);
  EXPECT_EQ(Dim(INT64_MIN).divide_exact(Dim(-1)), std::nullopt);
  EXPECT_EQ(Dim(0).divide_exact(Dim::symbol("a")), Dim(0));
}

TEST(DimTest, CheckedArithmetic) {
  EXPECT_FALSE(dim_add(Dim(INT64_MAX), Dim(1)).is_ok());
  EXPECT_FALSE(dim_sub(Dim(INT64_MIN), Dim(1)).is_ok());
  EXPECT_FALSE(dim_mul(Dim(int64_t(1) << 32), Dim(int64_t(1) << 32)).is_ok());
  EXPECT_FALSE(dim_sub(Dim(0), Dim(INT64_MIN)).is_ok());
  auto ok = dim_mul(parse_ok("a+1"), parse_ok("a-1"));
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok.value(), parse_ok("a*a - 1"));
  // The operators wrap (defined behavior) instead of failing.
  EXPECT_EQ(Dim(INT64_MAX) + Dim(1), Dim(INT64_MIN));
}

TEST(DimTest, ShapeHelpers) {
  const Shape s = {Dim::symbol("batch"), Dim(128)};
  EXPECT_EQ(shape_to_string(s), "[batch, 128]");
  EXPECT_EQ(shape_to_string({}), "[]");
  EXPECT_EQ(shape_num_elements(s), parse_ok("128*batch"));
  EXPECT_EQ(shape_num_elements({}), Dim(1));
  auto huge = checked_num_elements({Dim(int64_t(1) << 32), Dim(int64_t(1) << 32)});
  ASSERT_FALSE(huge.is_ok());
  EXPECT_NE(huge.status().message().find("overflow"), std::string::npos);
}

TEST(DimTest, ParseErrorsNamePosition) {
  EXPECT_NE(parse_error("").find("empty expression"), std::string::npos);
  EXPECT_NE(parse_error("   ").find("empty expression"), std::string::npos);
  const std::string bad = parse_error("ba$ch");
  EXPECT_NE(bad.find("'ba$ch'"), std::string::npos) << bad;
  EXPECT_NE(bad.find("unexpected '$' at position 2"), std::string::npos) << bad;
  EXPECT_NE(parse_error("2*").find("at position 2"), std::string::npos);
  EXPECT_NE(parse_error("(batch").find("expected ')'"), std::string::npos);
  EXPECT_NE(parse_error("batch)").find("unexpected ')' at position 5"), std::string::npos);
  EXPECT_NE(parse_error("2 batch").find("unexpected 'b'"), std::string::npos);
  EXPECT_NE(parse_error("1a").find("unexpected 'a' at position 1"), std::string::npos);
  EXPECT_NE(parse_error("a / 2").find("unexpected '/'"), std::string::npos);
  EXPECT_NE(parse_error("99999999999999999999").find("overflows int64"), std::string::npos);
  EXPECT_NE(parse_error("9223372036854775808").find("overflows int64"), std::string::npos);
  EXPECT_NE(parse_error("9223372036854775807 + 1").find("overflow"), std::string::npos);
  EXPECT_NE(parse_error("-(-9223372036854775807 - 1)").find("overflow"), std::string::npos);
}

TEST(DimTest, ParseRefusesHostileSizes) {
  EXPECT_NE(parse_error(std::string(100, '(') + "a" + std::string(100, ')')).find("nesting"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(2000, 'a')).find("longer than"), std::string::npos);
  std::string high_degree = "a";
  for (int i = 0; i < 20; ++i) high_degree += "*a";
  EXPECT_NE(parse_error(high_degree).find("degree"), std::string::npos);
  // Each factor has 8 terms: the product would have 8^3 = 512 distinct terms.
  std::string wide;
  for (char group = 0; group < 3; ++group) {
    wide += group ? "*(" : "(";
    for (int i = 0; i < 8; ++i)
      wide += std::string(i ? "+" : "") + char('a' + group) + char('0' + i);
    wide += ")";
  }
  EXPECT_NE(parse_error(wide).find("terms"), std::string::npos);
}

}  // namespace
}  // namespace kiln
