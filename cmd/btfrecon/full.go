//go:build !lean

package main

// lean says whether this is the lean build (lean.go), whose harness verbs
// run in btfrecon-harness.
const lean = false
