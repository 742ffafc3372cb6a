// The intrusive list: order, removal anywhere, two lists through one element.
#include "core/intrusive_list.h"

#include <gtest/gtest.h>

#include <vector>

namespace streamshift {
namespace {

struct Node {
  int value;
  ListHook<Node> all;
  ListHook<Node> idle;
};

template <class L>
std::vector<int> values(L& list) {
  std::vector<int> out;
  list.for_each([&](Node* n) { out.push_back(n->value); });
  return out;
}

TEST(IntrusiveList, PushRemoveAndTwoListsThroughOneElement) {
  Node a{1, {}, {}}, b{2, {}, {}}, c{3, {}, {}};
  IntrusiveList<Node, &Node::all> all;
  IntrusiveList<Node, &Node::idle> idle;
  EXPECT_TRUE(all.empty());
  all.push_front(&a);
  all.push_front(&b);
  all.push_front(&c);
  idle.push_front(&b);
  EXPECT_EQ(values(all), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(all.size(), 3u);
  EXPECT_TRUE(decltype(idle)::linked(&b));
  EXPECT_FALSE(decltype(idle)::linked(&a));

  all.remove(&b);  // middle
  EXPECT_EQ(values(all), (std::vector<int>{3, 1}));
  EXPECT_EQ(values(idle), (std::vector<int>{2}));
  all.remove(&c);  // head
  all.remove(&a);  // last
  EXPECT_TRUE(all.empty());
  EXPECT_EQ(idle.pop_front(), &b);
  EXPECT_EQ(idle.pop_front(), nullptr);
  all.push_front(&b);  // unlinked elements can be linked again
  EXPECT_EQ(all.front(), &b);
}

TEST(IntrusiveList, ForEachMayRemoveTheCurrentElement) {
  Node n[5] = {{0, {}, {}}, {1, {}, {}}, {2, {}, {}}, {3, {}, {}}, {4, {}, {}}};
  IntrusiveList<Node, &Node::all> all;
  for (Node& e : n) all.push_front(&e);
  all.for_each([&](Node* e) {
    if (e->value % 2 == 0) all.remove(e);
  });
  EXPECT_EQ(values(all), (std::vector<int>{3, 1}));
  EXPECT_EQ(all.size(), 2u);
}

}  // namespace
}  // namespace streamshift
