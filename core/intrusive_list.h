// A doubly linked list through a hook member of its elements: O(1) insert and
// remove, no allocation, and an element knows whether it is linked. For the
// connection sets of the HTTP server, the upstream pool and the Redis client,
// whose elements are owned elsewhere (freed in their handles' close callbacks).
//
//   struct Conn { ListHook<Conn> all; ListHook<Conn> idle; };
//   IntrusiveList<Conn, &Conn::all> connections;
#pragma once

#include <cassert>
#include <cstddef>

namespace streamshift {

template <class T>
struct ListHook {
  T* prev = nullptr;
  T* next = nullptr;
  bool linked = false;
};

template <class T, ListHook<T> T::*Hook>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  T* front() const { return head_; }
  static T* next(const T* e) { return (e->*Hook).next; }
  static bool linked(const T* e) { return (e->*Hook).linked; }

  void push_front(T* e) {
    ListHook<T>& h = e->*Hook;
    assert(!h.linked);
    h.prev = nullptr;
    h.next = head_;
    h.linked = true;
    if (head_ != nullptr) (head_->*Hook).prev = e;
    head_ = e;
    ++size_;
  }

  void remove(T* e) {
    ListHook<T>& h = e->*Hook;
    assert(h.linked);
    if (h.prev != nullptr)
      (h.prev->*Hook).next = h.next;
    else
      head_ = h.next;
    if (h.next != nullptr) (h.next->*Hook).prev = h.prev;
    h = ListHook<T>{};
    --size_;
  }

  T* pop_front() {
    T* e = head_;
    if (e != nullptr) remove(e);
    return e;
  }

  /// Calls f(e) for every element; f may remove e (and only e).
  template <class F>
  void for_each(F&& f) {
    for (T* e = head_; e != nullptr;) {
      T* after = (e->*Hook).next;
      f(e);
      e = after;
    }
  }

 private:
  T* head_ = nullptr;
  size_t size_ = 0;
};

}  // namespace streamshift
