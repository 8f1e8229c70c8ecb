/* What Debian's GlusterFS 10.3 build had in its config.h (not shipped). Several
 * of these change struct layouts (gf_atomic_t is 8 bytes only with
 * HAVE_ATOMIC_BUILTINS and SIZEOF_LONG 8); test/layout.test.ts checks the result
 * against Debian's own binaries. Included before any GlusterFS header. */
#ifndef GLUJS_GF_CONFIG_H
#define GLUJS_GF_CONFIG_H
#define _GNU_SOURCE 1
#define GF_LINUX_HOST_OS 1
#define HAVE_ATOMIC_BUILTINS 1
#define HAVE_SYNC_BUILTINS 1
#define SIZEOF_INT 4
#define SIZEOF_LONG 8
#define SIZEOF_LONG_LONG 8
#define USE_EVENTS 1
#define HAVE_STRUCT_STAT_ST_ATIM_TV_NSEC 1
#define HAVE_LINUX_FALLOC_H 1
#define HAVE_SYS_XATTR_H 1
#define HAVE_LLISTXATTR 1
#define HAVE_ENDIAN_H 1
#define HAVE_UTIMENSAT 1
#define HAVE_FUTIMENS 1
#define HAVE_FUTIMES 1
#define HAVE_STRNLEN 1
#define HAVE_ARGP 1
#define HAVE_STATIC_ASSERT 1
#define HAVE_PTHREAD_SETNAME_NP_TWO_ARGS 1
#endif
