// A thread-safe LRU cache of immutable values (the CPU plugin's oneDNN primitives). Values are
// created outside the lock (creation can take milliseconds); when two threads race on one key
// both create and the first insert wins. A create function returning null caches nothing.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace kiln_cpu {

template <class Key, class Value, class Hash>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  template <class Create>
  std::shared_ptr<const Value> get(const Key& key, Create&& create) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.second);
        return it->second.first;
      }
    }
    std::shared_ptr<const Value> value = create();
    if (!value) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(key);
    if (it != map_.end()) return it->second.first;
    lru_.push_front(key);
    map_.emplace(key, std::make_pair(value, lru_.begin()));
    while (map_.size() > capacity_) {
      map_.erase(lru_.back());
      lru_.pop_back();
    }
    return value;
  }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::list<Key> lru_;
  std::unordered_map<
      Key, std::pair<std::shared_ptr<const Value>, typename std::list<Key>::iterator>, Hash>
      map_;
};

}  // namespace kiln_cpu
