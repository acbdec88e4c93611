/* ORD_API marks what a shared runtime exports: the C API functions and the public C++ classes. The
 * library is compiled with hidden visibility, so nothing else (internal code, flatbuffers, std) leaves it. */
#ifndef ORDINAL_EXPORT_H_
#define ORDINAL_EXPORT_H_

#if defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
#define ORD_API [[gnu::visibility("default")]] /* composes with [[nodiscard]] on classes */
#elif defined(__GNUC__) || defined(__clang__)
#define ORD_API __attribute__((visibility("default")))
#else
#define ORD_API
#endif

#endif /* ORDINAL_EXPORT_H_ */
