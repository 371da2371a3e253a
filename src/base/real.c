/*
 * real.c - the real libc functions, found once with dlsym(RTLD_NEXT).
 *
 * Each real_xxx() wrapper loads its pointer on first use with an atomic
 * load, so the hooks pay one predictable branch and no lock.  dlsym may
 * set errno (and calls malloc); the loader saves and restores it so that
 * a hook's caller never sees a stray value.
 */
#include "real.h"

#include <dlfcn.h>
#include <errno.h>

#ifdef REAL_DIRECT
/*
 * proxywrap (built with REAL_DIRECT): a program without hooks, where the
 * next definition is libc's own, so its functions are called directly,
 * bound by the linker.  A static proxywrap has no loader to ask for
 * RTLD_NEXT at all.  The asm name: libc's symbol, without its header's
 * declaration (open's variadic one, fortify's wrappers).
 */
#define REAL_PTR(ret, name, params, args)				\
	extern ret libc_##name params __asm__(#name);			\
	ret(*real_fn_##name(void)) params				\
	{								\
		return libc_##name;					\
	}								\
	ret real_##name params						\
	{								\
		return libc_##name args;				\
	}
#else
#define REAL_PTR(ret, name, params, args)				\
	static ret(*p_##name) params;					\
	static ret(*load_##name(void)) params				\
	{								\
		ret(*fn_) params = __atomic_load_n(&p_##name,		\
						   __ATOMIC_ACQUIRE);	\
		if (fn_ == NULL) {					\
			int saved = errno;				\
			*(void **)&fn_ = dlsym(RTLD_NEXT, #name);	\
			__atomic_store_n(&p_##name, fn_,		\
					 __ATOMIC_RELEASE);		\
			errno = saved;					\
		}							\
		return fn_;						\
	}								\
	/* the first call, or a function libc lacks: out of line, so	\
	 * that the usual call is a load, a test and a jump */		\
	static __attribute__((noinline, cold)) ret cold_##name params	\
	{								\
		ret(*fn_) params = load_##name();			\
		if (fn_ == NULL) {					\
			errno = ENOSYS;					\
			return (ret)-1;					\
		}							\
		return fn_ args;					\
	}								\
	ret(*real_fn_##name(void)) params				\
	{								\
		return load_##name();					\
	}								\
	ret real_##name params						\
	{								\
		ret(*fn_) params = __atomic_load_n(&p_##name,		\
						   __ATOMIC_ACQUIRE);	\
		if (__builtin_expect(fn_ == NULL, 0))			\
			return cold_##name args;			\
		return fn_ args;					\
	}
#endif
REAL_FUNCS(REAL_PTR)
#undef REAL_PTR

void *
real_libsym(void *lib, const char *name)
{
	return dlsym(lib, name);
}

void
real_init(void)
{
#ifndef REAL_DIRECT
#define REAL_LOAD(ret, name, params, args) (void)load_##name();
	REAL_FUNCS(REAL_LOAD)
#undef REAL_LOAD
#endif
}
