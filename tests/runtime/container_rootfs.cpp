// The busybox rootfs helper of tests/init is compiled into test_init only; test_runtime takes
// the same code from its source rather than a copy.
#include "init/busybox_rootfs.cpp"  // NOLINT(bugprone-suspicious-include)
