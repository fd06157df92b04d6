#include <gtest/gtest.h>
#include "core/ops.h"
TEST(Smoke, Add) { EXPECT_EQ(zg::sum(zg::ones({2, 3})).item(), 6.0); }
