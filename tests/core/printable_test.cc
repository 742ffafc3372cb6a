// Untrusted bytes escaped for a terminal.
#include "core/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace streamshift {
namespace {

TEST(Printable, PrintableAsciiIsKept) {
  EXPECT_EQ(printable(""), "");
  EXPECT_EQ(printable("ev-1 room:{s0} ~!\"#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}"),
            "ev-1 room:{s0} ~!\"#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}");
}

TEST(Printable, ControlCharactersAndHighBytesAreEscapedAsHex) {
  EXPECT_EQ(printable("a\tb\r\nc"), "a\\x09b\\x0d\\x0ac");
  EXPECT_EQ(printable(std::string("\0\x1b[2J\x7f", 6)), "\\x00\\x1b[2J\\x7f");
  EXPECT_EQ(printable("caf\xc3\xa9\xff"), "caf\\xc3\\xa9\\xff");
}

TEST(Printable, ABackslashIsDoubledSoAnEscapeIsNeverAmbiguous) {
  EXPECT_EQ(printable("\\x0a"), "\\\\x0a");
  EXPECT_NE(printable("\\x0a"), printable("\n"));
}

}  // namespace
}  // namespace streamshift
