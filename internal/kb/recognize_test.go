package kb_test

import "testing"

// The checks the engine makes of a text besides the model, each a list of phrases of the
// phrase files.
func TestTextChecks(t *testing.T) {
	k := load(t)
	type testCase struct {
		text string
		want bool
	}
	for _, check := range []struct {
		name  string
		check func(string) bool
		cases []testCase
	}{
		{"Contradicts", k.Contradicts, []testCase{
			{"the payment was not successful", true},
			{"didn't go through", true},
			{"that worked, thanks!", false},
			{"note: it went through", false}, // "not" as a word, not inside one
			{"没有付款成功", true},
			{"付款成功了", false},
			{"扣款失败", true},
			{"成功了，没问题了", false},
			{"终于不再被拒了", false},
			{"it worked, no problems anymore", false},
			{"no problem, still declined", true}, // the denial outside the phrase still counts
		}},
		{"NotTriedYet", k.NotTriedYet, []testCase{
			{"haven't tried it yet", true},
			{"I'll try it tomorrow, thanks", true},
			{"还没试", true},
			{"好的我晚点试试", true},
			{"tried it, still declined", false},
			{"please try again later", false}, // a checkout's message, not a plan
			{"试过了还是不行", false},
			{"attempted yesterday", false},
		}},
		{"OnlyCourtesy", k.OnlyCourtesy, []testCase{
			{"thanks!", true},
			{"Thank you so much", true},
			{"ok", true},
			{"谢谢大佬！", true},
			{"好的，收到", true},
			{"thanks, it worked", false},
			{"ok it works now", false},
			{"好了", false}, // "fixed", not "fine"
			{"可以", true},  // "fine", or "it works": asked
			{"可以了", false},
			{"不行", false},
			{"谢谢，还是不行", false},
			{"thanksgiving sale", false},
			{"", false},
		}},
		{"AsksForHuman", k.AsksForHuman, []testCase{
			{"can I talk to a human?", true},
			{"转人工", true},
			{"人工智能", false},
			{"找苹果的人工客服帮忙解除了限制", false}, // a story, not a request
			{"a real person at my bank told me to wait", false},
			{"打了银行人工客服，还是不行", false},
			{"I called the bank and talked to a real person", false},
			{"should I talk to someone at the bank?", false},
			{"是真人吗", false},
			{"找个人民币充值的办法", false},
			{"银行说需要人工审核", false},
			{"我找人工客服问了，说是风控拦截了", false},
			{"let me talk to someone at my bank first", false},
			{"打了银行电话转人工，说卡没问题", false}, // what the bank said, not a request
			{"你好，能转人工吗", true},
			{"human error on my side", false},
		}},
	} {
		for _, tc := range check.cases {
			if got := check.check(tc.text); got != tc.want {
				t.Errorf("%s(%q) = %v, want %v", check.name, tc.text, got, tc.want)
			}
		}
	}
}
