// The canary: a program that links the runtime (and, at build time, every package a
// patch touches). Built with the patched toolchain and with the unpatched one, the two
// binaries must differ, or the patch never reached the compiled runtime.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

func main() {
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = make([]byte, 1<<10) }()
	}
	wg.Wait()
	runtime.GC()
	fmt.Println(runtime.Version())
}
