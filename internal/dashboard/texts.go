package dashboard

// texts are the page's words in one language. They live here rather than in the knowledge
// base's locales: the page is for the operators, in Chinese or English only, and a knowledge
// base that adds a language for the people it helps need not translate it.
type texts struct {
	LangName                                 string
	Title, Period, All, SinceAll, SinceFmt   string
	GeneratedAt, Language                    string
	Started, Diagnosed, Shown, Worked        string
	Failed, Handoffs, Solved, SolutionsShown string
	OfStarted, OfAnswered, OfFreeText        string // {p} is the percentage
	DailyTitle, DailyNote                    string
	CausesTitle, CausesNote                  string
	SolutionsTitle, SolutionsNote            string
	FunnelTitle, FunnelNote                  string
	HandoffsTitle, HandoffsNote              string
	HandoffsAllNote                          string
	HandoffsNoneNote, NoneInPeriod, Age      string
	FreeTextTitle, FreeTextNote              string
	FreeTextNoData                           string
	Recognized, Clarified, NotUnderstood     string
	OffTopic                                 string
	NoData, NoCause, Source                  string
	Days, Hours, Minutes                     string
}

var en = texts{
	LangName:         "English",
	Title:            "PayDoctor dashboard",
	Period:           "Period",
	All:              "all",
	SinceAll:         "all recorded events",
	SinceFmt:         "since {since}",
	GeneratedAt:      "Generated",
	Language:         "Language",
	Started:          "Conversations started",
	Diagnosed:        "Diagnoses",
	Shown:            "Shown",
	Worked:           "Worked",
	Failed:           "Did not work",
	Handoffs:         "Requests for a human",
	Solved:           "Solved",
	SolutionsShown:   "Solutions shown",
	OfStarted:        "{p} of started",
	OfAnswered:       "{p} worked of answered",
	OfFreeText:       "{p} of free text",
	DailyTitle:       "Conversations and diagnoses per day",
	DailyNote:        "UTC days of the period, the last 30 at most.",
	CausesTitle:      "Causes over time",
	CausesNote:       "Diagnoses per day by cause, the same days.",
	SolutionsTitle:   "Solutions: shown, worked, did not work",
	SolutionsNote:    "Each solution of the period, most shown first. Often shown and rarely working: improve it first.",
	FunnelTitle:      "Funnel",
	FunnelNote:       "Started → diagnosed → solved (\"this worked\") or handed to a human; each counts events, so a dialog started over counts twice.",
	HandoffsTitle:    "Open handoffs, with their age",
	HandoffsNote:     "The {shown} newest of {total} handoffs still open, of {requests} /human requests in the period.",
	HandoffsAllNote:  "The {total} handoffs still open, newest first, of {requests} /human requests in the period.",
	HandoffsNoneNote: "No handoff open, of {requests} /human requests in the period.",
	NoneInPeriod:     "none in this period",
	Age:              "age",
	FreeTextTitle:    "Free text the recogniser had to clarify",
	FreeTextNote:     "Of the messages in people's own words: recognised at once, asked which of a few it meant, not understood, or about something else.",
	FreeTextNoData:   "No free text in this period.",
	Recognized:       "recognised",
	Clarified:        "clarified",
	NotUnderstood:    "not understood",
	OffTopic:         "off topic",
	NoData:           "no data",
	NoCause:          "(no cause)",
	Source:           "The same figures as bot stats --json for this period.",
	Days:             "d",
	Hours:            "h",
	Minutes:          "m",
}

var zhHans = texts{
	LangName:         "中文",
	Title:            "PayDoctor 仪表盘",
	Period:           "时间范围",
	All:              "全部",
	SinceAll:         "全部已记录的事件",
	SinceFmt:         "自 {since} 起",
	GeneratedAt:      "生成于",
	Language:         "语言",
	Started:          "开始的对话",
	Diagnosed:        "诊断",
	Shown:            "展示",
	Worked:           "有效",
	Failed:           "无效",
	Handoffs:         "请求人工",
	Solved:           "已解决",
	SolutionsShown:   "展示的解决方案",
	OfStarted:        "占开始的对话 {p}",
	OfAnswered:       "有回答中 {p} 有效",
	OfFreeText:       "占自由文本 {p}",
	DailyTitle:       "每天的对话和诊断",
	DailyNote:        "所选时间范围内的每一天（UTC），最多最近 30 天。",
	CausesTitle:      "原因随时间变化",
	CausesNote:       "按原因统计的每天诊断数，日期同上。",
	SolutionsTitle:   "解决方案：展示、有效、无效",
	SolutionsNote:    "时间范围内的每个解决方案，展示最多的在前。展示多而很少有效的，最该先改进。",
	FunnelTitle:      "漏斗",
	FunnelNote:       "开始 → 诊断 → 解决（“有效”）或转人工；统计的是事件，重新开始的对话计两次。",
	HandoffsTitle:    "未关闭的人工对话及其时长",
	HandoffsNote:     "仍未关闭的 {total} 个人工对话中最新的 {shown} 个（时间范围内共 {requests} 次 /human 请求）。",
	HandoffsAllNote:  "仍未关闭的 {total} 个人工对话，最新的在前（时间范围内共 {requests} 次 /human 请求）。",
	HandoffsNoneNote: "没有未关闭的人工对话（时间范围内共 {requests} 次 /human 请求）。",
	NoneInPeriod:     "此时间范围内没有",
	Age:              "已等待",
	FreeTextTitle:    "识别器需要澄清的自由文本",
	FreeTextNote:     "用户用自己的话写的消息中：直接识别、追问是哪一种、未能理解、与付款无关的比例。",
	FreeTextNoData:   "这段时间没有自由文本。",
	Recognized:       "直接识别",
	Clarified:        "需要澄清",
	NotUnderstood:    "未能理解",
	OffTopic:         "与付款无关",
	NoData:           "暂无数据",
	NoCause:          "（无原因）",
	Source:           "与此时间范围的 bot stats --json 数字相同。",
	Days:             "天",
	Hours:            "小时",
	Minutes:          "分",
}

func textsFor(lang string) *texts {
	if lang == "zh-Hans" {
		return &zhHans
	}
	return &en
}
