package btf

// CrossCheck is crossCheck for the external tests (real_test.go).
var CrossCheck = crossCheck
