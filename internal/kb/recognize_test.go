package kb_test

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb"
)

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
			{"第一次失败了，再试一次就成功了", false}, // the try, told with how it went
			{"declined, will try again tomorrow", true},
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
			{"i want talk to human", true}, // the English of many who write it
			{"a real human at icbc told me no", false},
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

// QuestionAbout answers a question about the solution shown from that solution's answers: a
// text must ask (a question mark, an interrogative first, or a Chinese one anywhere) and hold
// one of the phrases, and the same words ask different things of different solutions.
func TestQuestionAbout(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		lang, solution, text string
		want                 string // the answer's id; "" for none
	}{
		{"en", "enable-cross-border", "which bank should I call?", "which-bank"},
		{"en", "enable-cross-border", "Which bank should I call", "which-bank"}, // asked without a question mark
		{"en", "enable-cross-border", "ok, what number do I call", "which-bank"},
		{"en", "enable-cross-border", "is there a fee?", "fee"},
		// The checkout's advice quoted names no other solution asked about.
		{"en", "enable-cross-border", "it says Your card was declined. Try a different card. which bank should I call?", "which-bank"},
		{"en", "enable-cross-border", "how long does it take to take effect?", "how-long"},
		{"en", "enable-cross-border", "can I do it in the app", "in-app"},
		{"en", "international-card", "which bank?", "which-bank"}, // which cards work, here
		{"en", "international-card", "does a debit card work?", "debit"},
		{"en", "payment-timing", "when should I try?", "when"},
		{"en", "choose-plan", "How much is the minimum?", "how-much"},
		{"zh-Hans", "enable-cross-border", "打哪个电话？", "which-bank"},
		{"zh-Hans", "enable-cross-border", "要手续费吗", "fee"},
		{"zh-Hans", "enable-cross-border", "多久能生效", "how-long"},
		{"zh-Hans", "international-card", "哪个银行的卡可以", "which-bank"},
		{"zh-Hans", "virtual-card", "虚拟卡靠谱吗？", "safe"},
		{"zh-Hans", "billing-settings", "地址要填拼音吗", "address-format"},
		{"en", "enable-cross-border", "do I need to go to the branch in person?", "in-person"},
		{"zh-Hans", "enable-cross-border", "需要去柜台吗", "in-person"},
		{"en", "enable-cross-border", "what if the bank refuses?", "refused"},
		{"zh-Hans", "enable-cross-border", "怎么跟银行说?", "what-to-say"},
		// Past thanks and openers, without a question mark; the Chinese forms without one.
		{"en", "enable-cross-border", "so which bank do I call", "which-bank"},
		{"en", "enable-cross-border", "thanks, quick question: is there a fee", "fee"},
		{"zh-Hans", "enable-cross-border", "收费不收费", "fee"},
		{"zh-Hans", "enable-cross-border", "要收费不", "fee"},
		{"zh-Hans", "enable-cross-border", "打啥电话", "which-bank"},
		// Nothing but what it asks.
		{"en", "enable-cross-border", "phone number", "which-bank"},
		{"zh-Hans", "enable-cross-border", "手续费", "fee"},
		// Not a question: a statement that holds the words.
		{"en", "enable-cross-border", "the bank charged me a fee and it still failed", ""},
		{"zh-Hans", "enable-cross-border", "银行说要收手续费", ""},
		// A question, but none of the solution's.
		{"en", "enable-cross-border", "does PayPal work?", ""},
		{"en", "paypal", "which bank should I call?", ""},
		// Naming another solution: a question about that one.
		{"en", "enable-cross-border", "does PayPal charge a fee?", ""},
		{"zh-Hans", "enable-cross-border", "虚拟卡要手续费吗", ""},
		{"en", "enable-cross-border", "what bank card works then?", ""},
		// Unless the phrase that asks holds the name: paying again, not the card solution.
		{"en", "contact-support", "can i just use another card?", "pay-again"},
		{"en", "billing-settings", "what state is my payment in?", ""}, // a state, not the form's
		{"en", "contact-support", "does paypal work instead of another card?", ""},
		{"en", "no-such-solution", "which bank should I call?", ""},
		// Told, not asked: what the answer's tells list, in a short text.
		{"zh-Hans", "contact-support", "三天了还没回复", "no-reply"},
		{"en", "contact-support", "I sent an email 3 days ago and still no reply", "no-reply"},
		{"en", "contact-support", "no reply yet?", "no-reply"},
		{"en", "contact-support", "still no reply, and now the card was charged twice and the subscription is gone", ""},
		{"en", "enable-cross-border", "no reply yet", ""},
	} {
		t.Run(tc.solution+"/"+tc.text, func(t *testing.T) {
			got, _, ok := k.QuestionAbout(tc.lang, tc.solution, tc.text)
			checkAnswer(t, k, tc.lang, kb.SolutionAnswer(tc.solution, tc.want), tc.want != "", got, ok)
		})
	}
}

// Every answer the shipped phrase files ask for, about a solution or a question of the flow,
// is in every shipped language: a language may lack answers (one an operator adds), the
// shipped ones must not.
func TestAnswersInEveryLanguage(t *testing.T) {
	k := load(t)
	n := 0
	for _, file := range readShippedPhrases(t) {
		for _, a := range file.Answers {
			n++
			id := kb.SolutionAnswer(a.Solution, a.ID)
			if a.Question != "" {
				id = kb.QuestionAnswer(a.Question, a.ID)
			}
			for _, lang := range k.Languages() {
				if got := k.Text(lang, id, nil); got == id || got == "" {
					t.Errorf("%s: %s: %q", lang, id, got)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("the phrase files ask %d questions; the test reads them wrong", n)
	}
}

// shippedPhrases is what one shipped phrase file lists of answers and typed answers.
type shippedPhrases struct {
	name  string
	Typed []struct {
		Question, Option string
		Says             []string
	} `toml:"typed"`
	Answers []struct {
		Solution, Question, ID string
		Asks                   []string
	} `toml:"answer"`
	Amounts []struct {
		Question, Option, Help string
		AtMost                 float64 `toml:"at_most"`
		Words                  []string
	} `toml:"amount"`
}

func readShippedPhrases(t *testing.T) []shippedPhrases {
	t.Helper()
	names, err := fs.Glob(bot.Data(), "phrases/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	files := make([]shippedPhrases, len(names))
	for i, name := range names {
		files[i].name = name
		if _, err := toml.DecodeFS(bot.Data(), name, &files[i]); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// AtQuestion takes a short typed answer as the option its phrases pick; two options, more
// than a short answer around the phrases, a question or a denial pick none.
func TestAtQuestion_Option(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		question, text, want string // want "" for none
	}{
		{"overseas_enabled", "no", "no"},
		{"overseas_enabled", "Nope, not enabled.", "no"},
		{"overseas_enabled", "not sure", "unsure"}, // not "no" for its "not"
		{"overseas_enabled", "I don't know", "unsure"},
		{"overseas_enabled", "yes I think so", "yes"},
		// What the question is about, repeated, says nothing more.
		{"overseas_enabled", "foreign transactions are already enabled on my card", "yes"},
		{"overseas_enabled", "境外支付在手机银行里早就开通了", "yes"},
		{"overseas_enabled", "打了银行电话 客服说开通了", "yes"},
		{"what_happened", "i only have a unionpay debit card from BOC", "wallet"}, // the card solution, opened without a cause
		{"what_happened", "只有银联卡", "wallet"},
		{"card_type", "我看了下卡上有visa标志", "domestic_visa"}, // how people look, said around the answer
		{"card_type", "i checked, the card has a mastercard logo", "domestic_visa"},
		{"overseas_enabled", "already enabled on my card and in the app, I checked twice", ""},
		{"overseas_enabled", "没开通", "no"},
		{"overseas_enabled", "应该没开吧", "no"},
		{"overseas_enabled", "不知道", "unsure"},
		{"overseas_enabled", "开通了", "yes"},
		// A particle that ends the sentence adds no word to what is said besides the answer.
		{"card_type", "我这张就是visa信用卡啊", "domestic_visa"},
		{"verify_prompt", "收到了 输了", "completed"}, // 输了 alone is also "lost"
		{"card_type", "我这张就是visa信用卡啊，你们这个机器人到底靠不靠谱", ""},
		{"overseas_enabled", "是", "yes"},
		{"card_type", "it's a visa from ICBC", "domestic_visa"},
		{"card_type", "Visa credit card from CMB", "domestic_visa"},
		{"card_type", "招行的visa", "domestic_visa"},
		{"card_type", "银联visa双币卡", "domestic_visa"},
		{"card_type", "银联卡", "unionpay"},
		{"card_type", "a virtual card", "virtual"},
		{"verify_prompt", "nothing arrived", "none"},
		{"verify_prompt", "没收到", "none"},
		{"verify_prompt", "the code expired", "failed"},
		{"address_match", "不一致", "no"},
		{"address_match", "yes, exactly the same", "yes"},
		{"amount", "很小", "small"},
		// Two answers in one: none, unless one says more of the card than the other does.
		{"overseas_enabled", "not sure, maybe it's enabled", ""},
		{"overseas_enabled", "not sure, maybe yes", "unsure"}, // a bare "yes" counts only alone
		{"card_type", "unionpay, or maybe visa", ""},
		{"card_type", "visa for foreign payments", "domestic_visa"}, // "foreign" alone names a card, not beside "payments"
		{"card_type", "能境外支付的visa", "domestic_visa"},
		{"card_type", "hong kong visa", "foreign"},
		{"card_type", "Mastercard from a HK bank", "foreign"},
		{"card_type", "中银香港的万事达", "foreign"},
		{"card_type", "香港的银联卡", "foreign"},
		{"card_type", "a virtual visa", "virtual"},
		{"card_type", "虚拟visa卡", "virtual"},
		// A message of its own around the answer: for the model.
		{"overseas_enabled", "my card was declined again and I don't know why, please help", ""},
		{"card_type", "visa，钱扣了但是账户没到账", ""},
		// One Chinese character in a sentence: no answer.
		{"address_match", "我用的是美国地址", ""},
		{"overseas_enabled", "卡是工行的，一直被拒", ""},
		{"overseas_enabled", "木有", ""},
		// Denials that answer, as phrases of their own.
		{"overseas_enabled", "I haven't enabled it", "no"},
		{"address_match", "不完全一致", "no"},
		{"amount", "not a lot", "small"},
		// Denied besides the answer, in its clause; a payment that failed is no denial.
		{"verify_prompt", "I did not", ""},
		{"card_type", "不是银联", ""},
		{"overseas_enabled", "I have not enabled overseas payments", "no"},
		{"overseas_enabled", "yes it's enabled but still declined", "yes"},
		{"overseas_enabled", "开通了，但还是失败", "yes"},
		{"card_type", "my Hong Kong card was declined", "foreign"},
		{"card_type", "我的香港卡被拒了", "foreign"},
		// A question about an option is not its answer.
		{"card_type", "what is a virtual card?", ""},
		{"card_type", "虚拟卡是什么", ""},
		{"verify_prompt", "是短信验证码吗", ""},
		// Nothing that answers; a question with no typed answers.
		{"overseas_enabled", "hello", ""},
		{"what_happened", "no", ""},
	} {
		t.Run(tc.question+"/"+tc.text, func(t *testing.T) {
			got, _, _ := k.AtQuestion("en", tc.question, tc.text)
			if got != tc.want {
				t.Errorf("option = %q; want %q", got, tc.want)
			}
		})
	}
}

// AtQuestion gives help with the flow's question being asked, with or without a question
// mark, when the request is short and its phrase is longer than any typed answer in it.
func TestAtQuestion_Help(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		lang, question, text, want string
	}{
		{"en", "card_type", "how do I tell?", "how-to-tell"},
		{"en", "card_type", "I don't know", "how-to-tell"},
		{"zh-Hans", "card_type", "不知道是什么卡", "how-to-tell"},
		{"zh-Hans", "card_type", "怎么知道是不是银联", "how-to-tell"},
		{"en", "verify_prompt", "what is 3D secure?", "what-is-it"},
		{"en", "verify_prompt", "no idea", "what-is-it"}, // not "no": Nothing arrived
		{"zh-Hans", "verify_prompt", "什么验证？", "what-is-it"},
		{"zh-Hans", "verify_prompt", "3D验证是什么", "what-is-it"},
		{"en", "overseas_enabled", "I don't understand the question", "how-to-check"},
		{"zh-Hans", "address_match", "没看懂", "how-to-check"},
		{"zh-Hans", "overseas_enabled", "咋查", "how-to-check"}, // 咋, as casual writing has it
		{"zh-Hans", "overseas_enabled", "不知道 咋查", "how-to-check"},
		{"en", "card_type", "visa", ""},
		{"en", "card_type", "I don't know, my card was declined again and again", ""}, // a message of its own
		{"en", "amount", "what's my limit?", "compare"},
		{"zh-Hans", "amount", "不知道额度是多少", "compare"},
		{"zh-Hans", "amount", "额度怎么比?", "compare"},
		{"zh-Hans", "amount", "怎么知道卡的额度", "compare"},
		{"en", "what_happened", "how do I tell?", ""}, // the start menu has no help
	} {
		t.Run(tc.question+"/"+tc.text, func(t *testing.T) {
			option, got, _ := k.AtQuestion(tc.lang, tc.question, tc.text)
			checkAnswer(t, k, tc.lang, kb.QuestionAnswer(tc.question, tc.want), tc.want != "", got, got != "")
			if tc.want != "" && option != "" {
				t.Errorf("option %q too", option)
			}
		})
	}
}

// AtQuestion reads a sum typed at the amount question: one at most the figure of its
// currency is small, a larger one gets the help that says how to compare it with the card's
// limit, and a number that is no sum, or a sum in a message of its own, is neither.
func TestAtQuestion_Amount(t *testing.T) {
	k := load(t)
	const small, compare, none = "small", "compare", ""
	for _, tc := range []struct{ text, want string }{
		{"$20", small},
		{"20", small}, // the checkout's currency
		{"I paid $20", small},
		{"about $5", small},
		{"5 USD", small},
		{"US$49.99", small},
		{"20 bucks", small},
		{"50$", small},
		{"$50", small}, // at most: the figure itself is small
		{"20刀", small},
		{"充了150元", small},
		{"￥100", small},
		{"100 块钱", small},
		{"$20 and $30", small},
		{"20!", small},
		{"20 kuai", small},
		{"二十刀", small},
		{"五十块", small},
		{"一共20刀", small}, // 一 of 一共 is no sum
		{"几十块", small},
		{"一百五十元", small},
		{"$1k", compare},
		{"$1.5k", compare},
		{"2万元", compare},
		{"两百块", small},
		{"两千块", compare},
		{"几百块", compare},
		{"$50.01", compare},
		{"$200", compare},
		{"1,000 dollars", compare},
		{"1000块", compare},
		{"$20 or $200", compare},
		{"2024", compare},
		{"$" + strings.Repeat("9", 400), compare}, // too long for a float: larger than any figure
		{"tried 3 times", none},
		{"3 cards", none},
		{"$20 3 times", none},
		{"$20?", none},
		{"is $20 a lot", none},
		{"not $20", none},
		{"20元30", none},
		{"usda 20", none},
		{"20kg", none},
		{"万事达", none},
		{"20 dollars, card declined", small}, // the clause with the sum answers; the other is besides
		{"I paid $20 yesterday and the bank sent me a code that never arrived", none},
	} {
		t.Run(tc.text, func(t *testing.T) {
			option, help, _ := k.AtQuestion("en", "amount", tc.text)
			switch tc.want {
			case compare:
				checkAnswer(t, k, "en", kb.QuestionAnswer("amount", compare), true, help, help != "")
				if option != "" {
					t.Errorf("option %q too", option)
				}
			default:
				if option != tc.want || help != "" {
					t.Errorf("option %q, help %q; want option %q", option, help, tc.want)
				}
			}
		})
	}
}

// Every sum of the shipped phrase files reads as its option at its figure and as its help
// above it, with each of its currency's words, and the help names the figure in every
// language: the text says what the data decides.
func TestEveryAmount(t *testing.T) {
	k := load(t)
	n := 0
	for _, file := range readShippedPhrases(t) {
		for _, a := range file.Amounts {
			n++
			figure := strconv.FormatFloat(a.AtMost, 'f', -1, 64)
			for _, lang := range k.Languages() {
				if help := k.Text(lang, kb.QuestionAnswer(a.Question, a.Help), nil); !strings.Contains(help, figure) {
					t.Errorf("%s: %s: the help %q does not name %s", file.name, lang, help, figure)
				}
			}
			for _, w := range a.Words {
				at, above := figure+" "+w, strconv.FormatFloat(a.AtMost+1, 'f', -1, 64)+" "+w
				if option, _, _ := k.AtQuestion("en", a.Question, at); option != a.Option {
					t.Errorf("%s: %q picks %q, want %q", file.name, at, option, a.Option)
				}
				if option, help, _ := k.AtQuestion("en", a.Question, above); option != "" || help == "" {
					t.Errorf("%s: %q picks %q with help %q, want the help alone", file.name, above, option, help)
				}
			}
		}
	}
	if n < 2 {
		t.Errorf("the phrase files list %d amounts; the test reads them wrong", n)
	}
}

// Verdict reads a short answer to "Did this work?" as its button, "not yet" as not tried, and
// anything more, asked or denied as none.
func TestVerdict(t *testing.T) {
	k := load(t)
	for _, tc := range []struct{ text, want string }{
		{"no", kb.ActionFailed},
		{"Nope.", kb.ActionFailed},
		{"no it didn't", kb.ActionFailed},
		{"yes", kb.ActionWorked},
		{"yes it did, thanks!", kb.ActionWorked},
		{"有用", kb.ActionWorked},
		{"有", kb.ActionWorked},
		{"没有", kb.ActionFailed},
		{"还没成功", kb.ActionFailed},
		// Scorn: the 有用 of 有用个屁 is none.
		{"有用个屁", kb.ActionFailed},
		{"nothing worked", kb.ActionFailed}, // its "worked" is none
		{"no, nothing worked", kb.ActionFailed},
		{"that did the trick", kb.ActionWorked},
		{"成功了才怪", kb.ActionFailed},
		{"wow thanks, that worked... NOT", kb.ActionFailed},
		{"不报错了", kb.ActionWorked},
		{"no errors anymore", kb.ActionWorked},
		{"好了好了，别啰嗦了", kb.VerdictNotTried}, // "OK, OK": no success
		{"成功个锤子", kb.ActionFailed},
		{"能用", kb.ActionWorked},
		{"付上了", kb.ActionWorked},
		{"没问题了", kb.ActionWorked},
		{"已经开了", kb.VerdictNotTried}, // a step done: did the payment go through?
		{"not yet", kb.VerdictNotTried},
		{"ok, what next?", kb.VerdictSkipped},
		{"然后呢", kb.VerdictSkipped},
		{"行吧 下一个", kb.VerdictSkipped},
		{"no, not yet", kb.VerdictNotTried}, // "not yet" wins over the "no" before it
		{"还没", kb.VerdictNotTried},
		{"yes but still declined", kb.ActionFailed}, // a bare "yes" counts only alone
		{"yes?", ""},
		{"no, the bank says everything is fine and the card still cannot pay", ""},
		{"有点问题", ""}, // one character counts only alone
		{"hello", ""},
		// Not yet, in the ways people write it; no verdict in a remark or a question.
		{"还没有", kb.VerdictNotTried},
		{"没有呢", kb.VerdictNotTried},
		{"没有啊 还没试", kb.VerdictNotTried},
		{"havent tried yet", kb.VerdictNotTried},
		{"no, I mean I haven't tried yet", kb.VerdictNotTried},
		{"是的我试试", kb.VerdictNotTried},
		{"no idea", kb.VerdictNotTried},
		{"没问题", kb.VerdictNotTried},
		{"no problem", ""},
		{"有没有用啊", ""},
		{"成功了吗？", ""},
		{"PayPal绑卡成功了", kb.VerdictNotTried}, // a step done, its 成功了 taken with it
		// A bare "no" or "yes" counts only alone.
		{"money was taken but no credits", ""},
		{"木有", kb.ActionFailed},
		{"能付了", kb.ActionWorked},
		{"I called but they said my card can't do it", kb.ActionFailed},
		// 木有 is 没有, and 有用 inside it no success; a step done or a try without its result
		// is no verdict; typos.
		{"木有用", kb.ActionFailed},
		{"木有效果", kb.ActionFailed},
		{"办好了", kb.VerdictNotTried},
		{"试了", kb.VerdictNotTried},
		{"在试了", kb.VerdictNotTried},
		{"not wroking", kb.ActionFailed},
		{"又不行了", kb.ActionFailed}, // not 行了
		{"it stopped working", kb.ActionFailed},
		{"wroked", kb.ActionWorked},
		{"payment succeeded", kb.ActionWorked},
		// Signs alone, repeated or in a skin tone.
		{"👍", kb.ActionWorked},
		{"👍👍", kb.ActionWorked},
		{"👎🏻", kb.ActionFailed},
		{"👍 👎", ""},
		// Two tries told: the later one's verdict stands; two verdicts at once are none.
		{"didn't work at first but now it works", kb.ActionWorked},
		{"it failed twice, then it worked", kb.ActionWorked},
		{"一开始不行，后来成功了", kb.ActionWorked},
		{"第一次失败了，再试一次就成功了", kb.ActionWorked},
		{"it worked, then it didn't", ""}, // the model reads it: "didn't" says not what failed
		{"it worked, then the credits didn't show up", ""},
		{"worked, then got declined again", kb.ActionFailed},
		{"成功了，然后又被拒了", kb.ActionFailed},
		{"declined before, now it works?", ""},
		{"ok. if it fails then I'll try paypal", ""},
		{"成功了，不过现在又不行了", kb.ActionFailed},
		{"it worked but it didn't", ""},
		{"明天再试，今天还是不行", ""},                     // 再试 of a plan is no later try
		{"this isn't helpful", kb.ActionFailed}, // the model read "helpful" as thanks for a success
		{"没帮助", kb.ActionFailed},
	} {
		if got := k.Verdict("paypal", tc.text); got != tc.want {
			t.Errorf("Verdict(paypal, %q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	// A solution's own phrases count while it is shown, and everyone's with them.
	for _, tc := range []struct{ solution, text, want string }{
		{"international-card", "I don't have a Visa card", kb.VerdictSkipped},
		{"international-card", "我没有visa卡", kb.VerdictSkipped},
		{"international-card", "我只有银联卡", kb.VerdictSkipped},
		{"paypal", "next", kb.VerdictSkipped},
		{"paypal", "下一个", kb.VerdictSkipped},
		{"international-card", "no", kb.ActionFailed},
		{"international-card", "not yet", kb.VerdictNotTried},
		{"virtual-card", "I don't have a Visa card", ""},
		{"enable-cross-border", "我只有银联卡", ""},
	} {
		if got := k.Verdict(tc.solution, tc.text); got != tc.want {
			t.Errorf("Verdict(%s, %q) = %q, want %q", tc.solution, tc.text, got, tc.want)
		}
	}
	// The bank finds nothing to lift: its own solution failed, no other's.
	for _, text := range []string{"called, bank says nothing is blocked", "打了,银行说没拦截"} {
		if got := k.Verdict("enable-cross-border", text); got != kb.ActionFailed {
			t.Errorf("Verdict(enable-cross-border, %q) = %q, want failed", text, got)
		}
		if got := k.Verdict("paypal", text); got == kb.ActionFailed {
			t.Errorf("Verdict(paypal, %q) = failed: the bank's words are no failure of PayPal", text)
		}
	}

}

// AnsweredOtherwise finds the typed answer in a text that rules out the outcome the model
// read, and nothing where the answer still leads there.
func TestAnsweredOtherwise(t *testing.T) {
	k := load(t)
	for _, tc := range []struct{ outcome, text, question, option string }{
		{"cross-border", "我已经开通了境外支付,还是被拒绝", "overseas_enabled", "yes"},
		{"cross-border", "招行visa，被拒了", "", ""}, // a Chinese Visa may still block payments abroad
		{"cross-border", "Your card is not supported. Please use a Visa, MasterCard, or American Express card", "", ""},
		{"cross-border", "能境外支付的visa，被拒了", "", ""},
		{"cross-border", "I already enabled overseas payments but my card is still declined", "overseas_enabled", "yes"},
		{"cross-border", "it is enabled and still declined", "overseas_enabled", "yes"},
		// A card named by where it is from is no card of a mainland bank, declined or not.
		{"cross-border", "My Hong Kong card was declined", "card_type", "foreign"},
		{"cross-border", "我的香港卡被拒了", "card_type", "foreign"},
		{"cross-border", "I'm in Japan and my card was declined", "", ""}, // where they are, not the card
		// An answer on the way, before the question that leads there: a foreign limit of 0 is
		// no limit to pay under but payments abroad not enabled.
		{"amount-limit", "工银e生活里境外消费限额是0", "overseas_enabled", "no"},
		{"amount-limit", "my foreign limit is 0", "overseas_enabled", "no"},
		// A bare "yes" counts only as a whole message, which a clause is not.
		{"cross-border", "yes, declined again", "", ""},
		{"cross-border", "是的,又被拒了", "", ""},
		{"", "我已经开通了境外支付,还是被拒绝", "", ""},
	} {
		q, o, ok := k.AnsweredOtherwise(tc.outcome, tc.text)
		if q != tc.question || o != tc.option || ok != (tc.question != "") {
			t.Errorf("AnsweredOtherwise(%s, %q) = %q, %q, %v; want %q, %q", tc.outcome, tc.text, q, o, ok, tc.question, tc.option)
		}
	}
}

// Statements keeps the clauses of a text that do not ask.
func TestStatements(t *testing.T) {
	k := load(t)
	for _, tc := range []struct{ text, want string }{
		{"got a CMB visa, also declined. which card now?", "got a CMB visa,\nalso declined."},
		{"thanks! is there a fee?", "thanks!"},
		{"is there a fee? thanks", "thanks"},
		{"扣费了但是没到账，怎么回事？", "扣费了但是没到账，"},
		{"太好了，谢谢。打哪个电话？", "太好了，\n谢谢。"},
		{"I paid 3.5 dollars on openai.com. why?", "I paid 3.5 dollars on openai.com."},
		{"which bank should I call?", ""},
		{"I tried, still declined. if I call the bank, is there a fee?", "I tried,\nstill declined."},
		{"不行的话，打哪个电话", ""},
	} {
		if got := k.Statements(tc.text); got != tc.want {
			t.Errorf("Statements(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// checkAnswer checks what a lookup of an answer gave: the message id in lang when answered,
// nothing otherwise.
func checkAnswer(t *testing.T, k *kb.KB, lang, id string, answered bool, got string, ok bool) {
	t.Helper()
	want := ""
	if answered {
		want = k.Text(lang, id, nil)
	}
	if ok != answered || got != want {
		t.Errorf("got %q, %v\nwant %q", got, ok, want)
	}
}

// Every phrase of the shipped phrase files' typed answers picks its option when typed alone
// (or gets the question's help, when it also asks for it), and every phrase that asks about
// a solution is answered when typed alone: none is shadowed by another rule.
func TestEveryPhraseAlone(t *testing.T) {
	k := load(t)
	n := 0
	for _, file := range readShippedPhrases(t) {
		for _, typed := range file.Typed {
			for _, p := range typed.Says {
				n++
				if option, help, _ := k.AtQuestion("en", typed.Question, p); option != typed.Option && help == "" {
					t.Errorf("%s: %q at %s picks %q, want %q", file.name, p, typed.Question, option, typed.Option)
				}
			}
		}
		for _, a := range file.Answers {
			if a.Solution == "" {
				continue // help with a question: TestAtQuestion_Help
			}
			for _, p := range a.Asks {
				n++
				if _, _, ok := k.QuestionAbout("en", a.Solution, p); !ok {
					t.Errorf("%s: %q about %s is not answered", file.name, p, a.Solution)
				}
			}
		}
	}
	if n < 300 {
		t.Errorf("%d phrases tried; the test reads the files wrong", n)
	}
}

// Command finds a command worded as the whole message, thanks aside, and nothing in a sentence.
func TestCommand(t *testing.T) {
	k := load(t)
	for _, tc := range []struct{ text, want string }{
		{"start over", "start"},
		{"Start over!", "start"},
		{"ok, restart", "start"},
		{"重新开始", "start"},
		{"menu", "help"},
		{"Show all", "solutions"},
		{"English please", "lang en"},
		{"请用中文回复", "lang zh"},
		{"go back", "back"},
		{"上一步", "back"},
		{"Where was I?", "repeat"},
		{"我该怎么做？", "repeat"},
		{"how do I start over with a new card?", ""},
		{"help me, my card was declined", ""},
		{"", ""},
	} {
		if got := k.Command(tc.text); got != tc.want {
			t.Errorf("Command(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestChoice(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		text string
		want int
	}{
		{"2", 2},
		{"the second one", 2},
		{"Second.", 2},
		{"2nd", 2},
		{"option 3", 3},
		{"I'll go with the first one, thanks", 1},
		{"#4", 4},
		{"第二个", 2},
		{"选第二个吧", 2},
		{"第2个", 2},
		{"选3", 3},
		{"应该是第一个", 1},
		{"两个", 2},
		{"number two", 2},
		{"the last one", 8},
		{"最后一个", 8},
		{"9", 0}, // of 8
		// Not a choice: what else it says is more than a place.
		{"the second one didn't work", 0},
		{"第二个办法不行", 0},
		{"tried 2 cards", 0},
		{"one", 0},
		{"the", 0},
		{"是", 0},
		{"0", 0},
		{"", 0},
	} {
		if got := k.Choice(kb.Normalize(tc.text), 8); got != tc.want {
			t.Errorf("Choice(%q, 8) = %d, want %d", tc.text, got, tc.want)
		}
	}
}

// AnsweredInSentences finds the answer a clause of a longer message gives to a question, by
// the phrases that state a fact wherever they are written.
func TestAnsweredInSentences(t *testing.T) {
	k := load(t)
	for _, tc := range []struct{ question, text, option string }{
		{"verify_prompt", "招行visa信用卡,境外支付已开,收到短信也输入了,还是被拒", "completed"},
		{"verify_prompt", "BOC visa, overseas payments enabled, 3DS done, still declined", "completed"},
		{"overseas_enabled", "招行visa信用卡,境外支付已开,收到短信也输入了,还是被拒", "yes"},
		{"verify_prompt", "招行visa信用卡,境外支付已开,还是被拒", ""}, // nothing said of the verification
		{"verify_prompt", "yes, declined", ""}, // a bare "yes" is no fact in a sentence
	} {
		option, ok := k.AnsweredInSentences(tc.question, tc.text)
		if option != tc.option || ok != (tc.option != "") {
			t.Errorf("AnsweredInSentences(%s, %q) = %q, %v; want %q", tc.question, tc.text, option, ok, tc.option)
		}
	}
}

// TestUnnamed: an outcome the phrase files name with words of its own is read only from a
// text that holds one; others from any.
func TestUnnamed(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		outcome, text string
		want          bool
	}{
		{"wallet-only", "支付不成功", true},
		{"wallet-only", "payment failed", true},
		{"wallet-only", "我只有支付宝", false},
		{"wallet-only", "I don't have a credit card, only WeChat", false},
		{"cross-border", "支付不成功", false},
	} {
		if got := k.Unnamed(tc.outcome, tc.text); got != tc.want {
			t.Errorf("Unnamed(%s, %q) = %v, want %v", tc.outcome, tc.text, got, tc.want)
		}
	}
}

// TestAsks: what asks, with a question word or without one, as Chinese does; and what asks
// why. A phrase is taken out whole before the shorter ones inside it, whichever file or place
// of its list it comes from: "why" taken first left "was it declined" to say more.
func TestAsks(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		name string
		asks func(string) bool
		text string
		want bool
	}{
		{"Asks", k.Asks, "那微信呢", true},
		{"Asks", k.Asks, "那虚拟卡呢", true},
		{"Asks", k.Asks, "要收费不", true},
		{"Asks", k.Asks, "收不收费", true},
		{"Asks", k.Asks, "还没到账呢", false}, // 呢 last tells as often as it asks
		{"Asks", k.Asks, "已经开通了", false},
		{"Asks", k.Asks, "is there a fee", true},
		{"Asks", k.Asks, "the fee was 3 dollars", false},
		{"AsksWhy", k.AsksWhy, "why was it declined by my bank today", true},
		{"AsksWhy", k.AsksWhy, "why does this happen?", true},
		{"AsksWhy", k.AsksWhy, "为什么会这样", true},
		{"AsksWhy", k.AsksWhy, "why? the bank says the card is fine and overseas payments are enabled and funds are there", false},
	} {
		if got := tc.asks(tc.text); got != tc.want {
			t.Errorf("%s(%q) = %v, want %v", tc.name, tc.text, got, tc.want)
		}
	}
}
