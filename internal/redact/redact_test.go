package redact_test

import (
	"strings"
	"testing"

	"github.com/paydoctor/bot/internal/redact"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in string
		found    bool
		gone     []string // must not survive
		kept     []string // must survive
	}{
		{"visa with spaces", "my card 4111 1111 1111 1111 fails", true, []string{"4111"}, []string{"my card", "fails"}},
		{"unionpay 19 digits with dashes", "卡号6222-0212-3456-7890-128被拒", true, []string{"6222", "7890"}, []string{"卡号", "被拒"}},
		{"stripe's empty card field", "Card number\n1234 1234 1234 1234\nYour card was declined.", false, nil, []string{"1234 1234 1234 1234", "declined"}},
		{"a real number beside the placeholder", "1234 1234 1234 1234 then 4111 1111 1111 1111", true, []string{"4111"}, []string{"1234 1234 1234 1234"}},
		{"full-width digits", "卡号４１１１１１１１１１１１１１１１", true, []string{"４１１１"}, nil},
		{"card with a typo", "my card 4111 1111 1111 1112 fails", true, []string{"4111"}, []string{"my card", "fails"}},
		{"a digit at a time", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", true, []string{"4 1 1 1"}, nil},
		{"pairs of digits", "41 11 11 11 11 11 11 11", true, []string{"41 11"}, nil},
		{"card, cvv and expiry run together", "41111111111111111231225", true, []string{"4111", "1225"}, nil},
		{"phone number", "call 400 820 8888 or 13800138000", false, nil, []string{"400 820 8888", "13800138000"}},
		{"cvv", "CVV: 123", true, []string{"123"}, []string{"CVV"}},
		{"安全码", "安全码是456", true, []string{"456"}, []string{"安全码"}},
		{"sms code", "验证码 884512 没用", true, []string{"884512"}, []string{"没用"}},
		{"english code", "the sms code is 9932", true, []string{"9932"}, nil},
		{"zip code", "my zip code is 100000", false, nil, []string{"100000"}},
		{"postal code, then an sms code", "Postal code 200000, sms code 123456", true, []string{"123456"}, []string{"200000"}},
		{"decline code text", "card_declined do_not_honor", false, nil, []string{"card_declined do_not_honor"}},
		{"amount", "paid $120 twice", false, nil, []string{"$120"}},

		// Card numbers grouped with other separators.
		{"dots", "4111.1111.1111.1111", true, []string{"4111", "1111"}, nil},
		{"dots, then words", "4111.1111.1111.1111 declined", true, []string{"4111", "1111"}, []string{"declined"}},
		{"underscores", "4111_1111_1111_1111", true, []string{"4111", "1111"}, nil},
		{"spaced dashes", "4111 - 1111 - 1111 - 1111", true, []string{"4111", "1111"}, nil},
		{"groups on two lines", "4111 1111\n1111 1111", true, []string{"4111", "1111"}, nil},
		{"amex in dots", "3782.822463.10005 ok", true, []string{"3782", "822463", "10005"}, []string{"ok"}},
		{"unionpay in dots, a group of three last", "6222.0212.3456.7890.128", true, []string{"6222", "128"}, nil},
		// Those separators also write amounts, dates, times and versions: none of these is a card.
		{"amounts", "paid 3.5 then $120.00 then 1234567.89, 2024.05.03", false, nil, []string{"3.5", "$120.00", "1234567.89", "2024.05.03"}},
		{"a date and time", "2024-05-03 12:30:45", false, nil, []string{"2024-05-03 12:30:45"}},
		{"dates on two lines", "2024-05-03 12:30:45\n2024-05-04 09:00:00", false, nil, []string{"12:30:45\n2024-05-04"}},
		{"a range of amounts", "between 1200.00 - 3400.50 yuan", false, nil, []string{"1200.00 - 3400.50"}},
		{"an amount on each line", "1200.00\n3400.50\n5600.00", false, nil, []string{"1200.00\n3400.50\n5600.00"}},
		{"a phone number on its own line", "电话\n13800138000\n谢谢", false, nil, []string{"13800138000"}},
		{"a phone number on each line", "13800138000\n13900139000", false, nil, []string{"13800138000\n13900139000"}},

		// The spaces of other keyboards and of copied pages, and other separators.
		{"full-width digits and spaces", "６２２２\u3000０２１２\u3000３４５６\u3000７８９０", true, []string{"６２２２", "７８９０"}, nil},
		{"no-break spaces", "卡号 4111\u00a01111\u00a01111\u00a01111 被拒", true, []string{"4111"}, []string{"卡号", "被拒"}},
		{"thin spaces", "4111\u20091111\u20091111\u20091111", true, []string{"4111"}, nil},
		{"zero-width spaces", "4111\u200b1111\u200b1111\u200b1111", true, []string{"4111"}, nil},
		{"two spaces", "4111  1111  1111  1111", true, []string{"4111"}, nil},
		{"tabs", "4111\t1111\t1111\t1111", true, []string{"4111"}, nil},
		{"slashes", "4111/1111/1111/1111", true, []string{"4111"}, nil},
		{"commas", "4111,1111,1111,1111 and 6222，0212，3456，7890", true, []string{"4111", "6222"}, nil},
		{"full-width dashes", "4111－1111－1111－1111", true, []string{"4111"}, nil},
		{"a blank line between groups", "4111 1111\n\n1111 1111", true, []string{"4111", "1111"}, nil},
		{"a mobile number with its country code", "我的手机 +86 138 0013 8000 收不到验证码", false, nil, []string{"+86 138 0013 8000"}},
		{"13 digits without the plus", "86 138 0013 8000", true, []string{"138"}, nil},
		{"a mobile number after a full-width plus", "手机 ＋86 138 0013 8000", false, nil, []string{"138 0013 8000"}},
		{"en dashes", "4111–1111–1111–1111", true, []string{"4111"}, nil},
		{"a minus sign", "4111−1111−1111−1111", true, []string{"4111"}, nil},
		{"a Chinese keyboard's dot and comma", "4111。1111。1111。1111 or 4111、1111、1111、1111", true, []string{"4111"}, nil},
		{"middle dots", "4111·1111·1111·1111", true, []string{"4111"}, nil},
		{"zero-width joiners", "4111\u200c1111\u200d1111\u20601111", true, []string{"4111"}, nil},
		// A bank's text message quoted holds sums and a card's last digits beside 短信: no codes.
		{"a card's last digits", "收到短信：您尾号1234的信用卡交易被拒", false, nil, []string{"尾号1234"}},
		{"a sum in yuan", "短信提示消费 1234 元", false, nil, []string{"1234 元"}},
		{"a sum after 短信", "收到短信扣款5000元", false, nil, []string{"5000元"}},
		{"a sum with cents", "短信说交易金额 2000.00", false, nil, []string{"2000.00"}},
		{"a date", "银行短信 2024-05-03", false, nil, []string{"2024-05-03"}},
		// UnionPay's name for the security code, and the ways Chinese speakers write the codes.
		{"cvn2", "CVN2 321", true, []string{"321"}, []string{"CVN2"}},
		{"cvn", "cvn 123", true, []string{"123"}, nil},
		{"后三位", "卡背后三位 123", true, []string{"123"}, nil},
		{"短信", "短信：482913", true, []string{"482913"}, []string{"短信"}},
		{"收到的短信是", "收到的短信是482913", true, []string{"482913"}, nil},
		{"校验码 of an sms", "校验码 482913", true, []string{"482913"}, nil},
		{"a code in two groups", "验证码 482 913", true, []string{"482", "913"}, nil},
		{"a code in two groups with a dash", "验证码 482-913", true, []string{"482", "913"}, nil},
		{"a code after a blank line", "验证码\n\n482913", true, []string{"482913"}, nil},
		{"a phone the sms went to", "短信发到13800138000了", false, nil, []string{"13800138000"}},

		// Codes written before their keyword, and more keywords.
		{"code before 验证码", "839201是您的验证码", true, []string{"839201"}, []string{"验证码"}},
		{"code before verification code", "839201 is your verification code", true, []string{"839201"}, []string{"verification code"}},
		{"bank sms in English", "[Bank of China] 839201 is your one-time passcode for OPENAI USD20.00", true, []string{"839201"}, []string{"[Bank of China]", "USD20.00"}},
		{"bank sms in Chinese", "【中国银行】839201是您的动态密码，您正在向OPENAI支付", true, []string{"839201"}, []string{"【中国银行】", "OPENAI支付"}},
		{"brand between is-your and the keyword", "G-839201 is your Google verification code.", true, []string{"839201"}, []string{"Google"}},
		{"cvv before its keyword", "737 is my CVV", true, []string{"737"}, []string{"CVV"}},
		{"one-time password", "one-time password 839201", true, []string{"839201"}, nil},
		{"動態碼", "動態碼 839201", true, []string{"839201"}, []string{"動態碼"}},
		{"驗證碼", "驗證碼：839201", true, []string{"839201"}, []string{"驗證碼"}},
		{"安全碼", "安全碼是456", true, []string{"456"}, []string{"安全碼"}},
		{"digits on the back", "the 3 digits on the back are 737", true, []string{"737"}, []string{"the 3 digits"}},
		{"背面的三位数", "卡背面的三位数是737", true, []string{"737"}, []string{"三位数"}},
		{"code on the next line", "验证码\n839201", true, []string{"839201"}, []string{"验证码"}},
		{"cvv on the next line", "CVV:\n737", true, []string{"737"}, []string{"CVV"}},
		{"a code before and one after the same keyword", "1234 is your verification code 5678", true, []string{"1234", "5678"}, nil},
		// Not codes, though a number stands by a keyword's words.
		{"a number waiting for a code", "order 123456 is waiting for the verification code", false, nil, []string{"123456"}},
		{"a sum before the keyword", "我付了1234元，验证码没收到", false, nil, []string{"1234"}},
		{"a phone number after the keyword", "验证码发到13800138000了", false, nil, []string{"13800138000"}},
		{"too long for a cvv", "CVV: 12345", false, nil, []string{"12345"}},

		// Codes that are a bank's or a server's answer, not a secret.
		{"error code", "error code: 2001", false, nil, []string{"2001"}},
		{"bank response code", "bank response code 4001", false, nil, []string{"4001"}},
		{"http status code", "HTTP status code 4029 again", false, nil, []string{"4029"}},
		{"reason code", "Reason code: 8001", false, nil, []string{"8001"}},
		{"decline code", "decline code 05, response code 51", false, nil, []string{"05", "51"}},
		{"错误码", "错误码 10003", false, nil, []string{"10003"}},
		{"错误代码", "错误代码 051", false, nil, []string{"051"}},
		{"返回码, 状态码, 错误号", "返回码 1234 状态码 5678 错误号 9012", false, nil, []string{"1234", "5678", "9012"}},
		{"a bare code", "it says code 402", false, nil, []string{"402"}},
		{"a bare error", "got error 429 after paying", false, nil, []string{"429"}},
		// After "declined" a number named code is the bank's reason: SMS codes are named for what they are.
		{"declined, code", "card declined, code 1234", false, nil, []string{"1234"}},
		{"declined, then an sms code", "card declined, the sms code 1234 did not help", true, []string{"1234"}, []string{"declined"}},
		{"an error before a verification code", "Error: verification code 123456 expired", true, []string{"123456"}, []string{"expired"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, found := redact.Redact(tc.in)
			if found != tc.found {
				t.Errorf("found = %v, want %v (out %q)", found, tc.found, out)
			}
			for _, s := range tc.gone {
				if strings.Contains(out, s) {
					t.Errorf("%q survives in %q", s, out)
				}
			}
			for _, s := range tc.kept {
				if !strings.Contains(out, s) {
					t.Errorf("%q was lost from %q", s, out)
				}
			}
		})
	}
}

// BenchmarkRedact is what every message pays: most have no digits, many an amount, few card
// data.
func BenchmarkRedact(b *testing.B) {
	for _, in := range []struct{ name, text string }{
		{"no digits", "我的卡支付时显示 Your card was declined"},
		{"amount", "I paid $20 and it was declined"},
		{"code and amount", "充值150元失败，验证码 884512 没用"},
		{"card", "my card 4111 1111 1111 1111 fails, cvv 123"},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				redact.Redact(in.text)
			}
		})
	}
}

func TestRedactKeys(t *testing.T) {
	for _, tc := range []struct {
		in    string
		found bool
		gone  string
	}{
		{"my openai key is sk-proj-AbCdEf1234567890abcdefGHIJKL", true, "AbCdEf1234567890"},
		{"OPENAI_API_KEY=sk-AbCdEf1234567890abcdefGHIJKL python app.py", true, "AbCdEf1234567890"},
		{"key sk-svcacct-Ab_Cd-Ef1234567890abcdef, still insufficient_quota", true, "1234567890"},
		{"sk-... is my key", false, ""},                      // shown as the docs write it: no key
		{"ask-me-anything-about-payments-please", false, ""}, // "sk-" inside a word
	} {
		got, found := redact.RedactKeys(tc.in)
		if found != tc.found || tc.gone != "" && strings.Contains(got, tc.gone) {
			t.Errorf("RedactKeys(%q) = %q, %v", tc.in, got, found)
		}
	}
}
