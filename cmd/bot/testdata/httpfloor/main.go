// Command httpfloor measures the CPU a bare Go HTTP client spends to send 300 requests at
// Telegram's pace (30 a second) to a server in another process: the floor under
// BenchmarkDrain's CPU per reply on the machine it runs on.
//
//	go run ./cmd/bot/testdata/httpfloor
package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		serve(os.Args[1])
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	server := exec.Command(os.Args[0], addr)
	if err := server.Start(); err != nil {
		log.Fatal(err)
	}
	defer server.Process.Kill()
	client := &http.Client{}
	endpoint := "http://" + addr + "/bot0:token/sendMessage"
	for {
		if resp, err := client.Get(endpoint); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	const requests = 300
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	start := cpu()
	for range requests {
		<-tick.C
		resp, err := client.PostForm(endpoint, url.Values{"chat_id": {"1"}, "text": {"Your card was declined"}, "parse_mode": {"HTML"}})
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	used := cpu() - start
	fmt.Printf("%d requests at 30/s: %s CPU, %s a request\n", requests, used, used/requests)
}

func serve(addr string) {
	log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"Your card was declined"}}`)
	})))
}

func cpu() time.Duration {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
