// A fixed-size array of trivially copyable elements for large hash tables and rings. Arrays of 2 MiB or more
// are aligned to 2 MiB and advised to use transparent huge pages, which removes most TLB misses from random
// access over tens of megabytes (the seen cache with a million entries).
#ifndef LIBP2P_BASE_LARGE_ARRAY_H_
#define LIBP2P_BASE_LARGE_ARRAY_H_

#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace libp2p {

// Allocates `bytes` aligned to at least `alignment` (a power of two), huge-page backed when large.
// Never returns null: allocation failure ends the process like operator new does.
void* AllocateLarge(size_t bytes, size_t alignment);
void FreeLarge(void* p);

template <typename T>
class LargeArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  LargeArray() = default;
  // `n` value-initialised (zeroed) elements.
  explicit LargeArray(size_t n) : size_(n) {
    if (n == 0) return;
    data_ = static_cast<T*>(AllocateLarge(n * sizeof(T), alignof(T)));
    for (size_t i = 0; i < n; ++i) new (&data_[i]) T();
  }
  LargeArray(LargeArray&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  LargeArray& operator=(LargeArray&& o) noexcept {
    if (this != &o) {
      FreeLarge(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  LargeArray(const LargeArray&) = delete;
  LargeArray& operator=(const LargeArray&) = delete;
  ~LargeArray() { FreeLarge(data_); }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }
  T* data() { return data_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace libp2p

#endif  // LIBP2P_BASE_LARGE_ARRAY_H_
