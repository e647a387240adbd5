/* A stand-in for a kernel module: .modinfo, data with a relocation, code. */
static const char modinfo[] __attribute__((section(".modinfo"), used, aligned(1))) =
	"license=GPL\0name=tiny";
int tiny_value = 42;
int *tiny_ptr = &tiny_value;
int tiny_get(int a) { return a + tiny_value; }
