// Package storetest is the conformance suite every store.Store passes, and
// the reference model it compares stores with.
package storetest
