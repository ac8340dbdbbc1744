#!/usr/bin/env bash
# Draws the test screenshots under testdata/screenshots/ and their manifest, shaped like the
# pictures people post: a checkout error under a card form, a phone screenshot with its
# status bar, a bank's SMS, a bank app's risk-control popup, dark mode, a slight rotation,
# JPEG compression, Telegram's downscaled copy; in Chinese and English; some with a card
# number and CVV in view; two with no payment text at all.
#
# Run by hand when the set changes, and commit the images: the tests read them and need
# neither ImageMagick nor the fonts.
#
#   apt-get install imagemagick fonts-noto-cjk
#   scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata/screenshots

# ImageMagick 6's convert or 7's magick; a convert that is not ImageMagick is passed over.
im=""
for c in magick /usr/bin/convert convert; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -version 2>/dev/null | grep -q ImageMagick; then
    im=$c; break
  fi
done
[ -n "$im" ] || { echo "screenshots.sh: needs ImageMagick (apt-get install imagemagick)" >&2; exit 1; }
"$im" -list font | grep -q 'Noto-Sans-CJK-SC$' \
  || { echo "screenshots.sh: needs the Noto CJK font (apt-get install fonts-noto-cjk)" >&2; exit 1; }

font=Noto-Sans-CJK-SC
bold=Noto-Sans-CJK-SC-Bold
rm -f "$out"/*.png "$out"/*.jpg
manifest="$out/manifest.tsv"
printf '# file\tlang\twant\tcard\tphrase\n' >"$manifest"
# The columns: the image; its language; where the bot's first answer should lead
# ("cause:<id>", "solution:<id>", or "none": nothing readable about a payment, the bot asks
# for the text); the card number in view, digits only ("-": none); a phrase the OCR must
# read, compared without spaces and case ("-": none).

# finish SRC NAME POST...: applies the post-processing (ImageMagick options, such as
# "-rotate 2" or "-quality 40") and writes NAME, a .png or a .jpg.
finish() {
  local src=$1 name=$2; shift 2
  "$im" "$src" "$@" "$out/$name"
  rm -f "$src"
}

entry() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$manifest"; }

# checkout NAME LANG WANT PHRASE CARD(spaced or -) ERROR [POST...]: a Stripe-style card form
# with the error in red under it, 1000×760.
checkout() {
  local name=$1 lang=$2 want=$3 phrase=$4 card=$5 err=$6; shift 6
  local t_title t_email t_card t_name t_country t_pay number exp cvc
  if [ "$lang" = en ]; then
    t_title="Pay OpenAI, LLC"; t_email="Email"; t_card="Card information"; t_name="Name on card"
    t_country="Country or region"; t_pay="Pay \$20.00"
  else
    t_title="向 OpenAI, LLC 付款"; t_email="电子邮件"; t_card="银行卡信息"; t_name="持卡人姓名"
    t_country="国家或地区"; t_pay="支付 \$20.00"
  fi
  number="1234 1234 1234 1234"; exp="MM / YY"; cvc="CVC"
  if [ "$card" != - ]; then number=$card; exp="08 / 29"; cvc="731"; fi
  "$im" -size 1000x760 xc:white -font "$font" -fill '#1a1a1a' \
    -pointsize 34 -font "$bold" -annotate +60+80 "$t_title" -font "$font" \
    -pointsize 22 -fill '#6b7280' -annotate +60+150 "$t_email" \
    -fill none -stroke '#d1d5db' -strokewidth 2 -draw "roundrectangle 60,165 940,220 8,8" -stroke none \
    -fill '#1a1a1a' -annotate +80+202 "wei.zhang@example.com" \
    -fill '#6b7280' -annotate +60+270 "$t_card" \
    -fill none -stroke '#d1d5db' -draw "roundrectangle 60,285 940,400 8,8" -draw "line 60,342 940,342" -draw "line 500,342 500,400" -stroke none \
    -fill '#1a1a1a' -pointsize 26 -annotate +80+323 "$number" -annotate +80+381 "$exp" -annotate +520+381 "$cvc" \
    -pointsize 22 -fill '#6b7280' -annotate +60+450 "$t_name" \
    -fill none -stroke '#d1d5db' -draw "roundrectangle 60,465 940,520 8,8" -stroke none \
    -fill '#1a1a1a' -annotate +80+502 "ZHANG WEI" \
    -fill '#df1b41' -pointsize 26 -annotate +60+570 "$err" \
    -fill '#0570de' -draw "roundrectangle 60,620 940,690 8,8" \
    -fill white -pointsize 28 -font "$bold" -annotate +420+666 "$t_pay" \
    "$out/tmp.png"
  finish "$out/tmp.png" "$name" "$@"
  entry "$name" "$lang" "$want" "${card// /}" "$phrase"
}
checkout_nocard() { local n=$1 l=$2 w=$3 p=$4; shift 4; checkout "$n" "$l" "$w" "$p" - "$@"; }

# phone NAME LANG WANT PHRASE TITLE BODY [POST...]: a 1080×2340 phone screenshot: status bar,
# an app bar, a card with the message in the middle.
phone() {
  local name=$1 lang=$2 want=$3 phrase=$4 title=$5 body=$6; shift 6
  "$im" -size 1080x2340 xc:'#f2f2f7' -font "$bold" -fill black \
    -pointsize 40 -annotate +70+75 "9:41" -font "$font" -annotate +800+75 "5G  87%" \
    -fill white -draw "rectangle 0,110 1080,260" -fill black -pointsize 46 -font "$bold" -annotate +60+205 "$title" -font "$font" \
    -fill white -draw "roundrectangle 40,700 1040,1300 30,30" \
    -fill '#d0021b' -pointsize 48 -annotate +90+820 "⚠" \
    -fill '#1c1c1e' -pointsize 44 -annotate +90+920 "$body" \
    "$out/tmp.png"
  finish "$out/tmp.png" "$name" "$@"
  entry "$name" "$lang" "$want" - "$phrase"
}

# sms NAME LANG WANT PHRASE SENDER BODY [POST...]: the Messages app showing a bank's SMS.
sms() {
  local name=$1 lang=$2 want=$3 phrase=$4 sender=$5 body=$6; shift 6
  "$im" -size 1080x1800 xc:white -font "$bold" -fill black \
    -pointsize 40 -annotate +70+75 "10:02" -font "$font" -annotate +800+75 "4G  62%" \
    -pointsize 44 -font "$bold" -annotate +430+220 "$sender" -font "$font" \
    -fill '#e9e9eb' -draw "roundrectangle 40,380 1000,960 40,40" \
    -fill black -pointsize 38 -annotate +80+460 "$body" \
    "$out/tmp.png"
  finish "$out/tmp.png" "$name" "$@"
  entry "$name" "$lang" "$want" - "$phrase"
}

# popup NAME LANG WANT PHRASE TITLE BODY BUTTON [POST...]: a bank app's dialog over a dimmed
# screen.
popup() {
  local name=$1 lang=$2 want=$3 phrase=$4 title=$5 body=$6 button=$7; shift 7
  "$im" -size 1080x2000 xc:'#7f7f7f' -font "$font" -fill white \
    -pointsize 40 -annotate +70+75 "14:27" -annotate +800+75 "5G  45%" \
    -fill white -draw "roundrectangle 90,600 990,1300 36,36" \
    -fill black -font "$bold" -pointsize 50 -annotate +380+720 "$title" -font "$font" \
    -fill '#333333' -pointsize 40 -annotate +150+830 "$body" \
    -fill '#c8102e' -draw "roundrectangle 150,1150 930,1250 20,20" \
    -fill white -pointsize 42 -annotate +450+1215 "$button" \
    "$out/tmp.png"
  finish "$out/tmp.png" "$name" "$@"
  entry "$name" "$lang" "$want" - "$phrase"
}

dark=(-negate)              # dark mode: light text on black
tilt=(-background white -rotate 2)
tiltback=(-background white -rotate -1.5)
jpeg=(-quality 45)
telegram=(-resize 50% -quality 80) # a phone screenshot as Telegram's largest photo size keeps it

# Checkout errors in English.
checkout_nocard en_checkout_declined.png en cause:cross-border-restricted "your card was declined" "Your card was declined."
checkout en_checkout_declined_card.png en cause:cross-border-restricted "your card was declined" "6222 0218 4736 9051" "Your card was declined."
checkout_nocard en_checkout_not_supported.jpg en cause:cross-border-restricted "does not support this type of purchase" "Your card does not support this type of purchase." "${jpeg[@]}"
checkout_nocard en_checkout_authenticate.png en cause:bank-verification "unable to authenticate" "We are unable to authenticate your payment method."
checkout en_checkout_insufficient_card.jpg en solution:choose-plan "insufficient funds" "4367 4219 8830 5126" "Your card has insufficient funds." "${jpeg[@]}"
checkout_nocard en_checkout_zip_dark.png en cause:account-settings "zip code failed validation" "Your card's zip code failed validation." "${dark[@]}"
checkout_nocard en_checkout_expired_tilted.png en solution:international-card "your card has expired" "Your card has expired." "${tilt[@]}"
checkout_nocard en_checkout_processing.png en solution:payment-timing "error occurred while processing" "An error occurred while processing your card." 
# Chinese checkout errors.
checkout_nocard zh_checkout_declined.png zh-Hans cause:cross-border-restricted "您的卡已被拒绝" "您的卡已被拒绝。"
checkout zh_checkout_declined_card.jpg zh-Hans cause:cross-border-restricted "您的卡已被拒绝" "6217 0038 6429 7155 203" "您的卡已被拒绝。" "${jpeg[@]}"
checkout_nocard zh_checkout_not_supported_tilted.png zh-Hans cause:cross-border-restricted "银行卡不支持" "您的银行卡不支持此类交易。" "${tiltback[@]}"
checkout_nocard zh_checkout_processing_dark.png zh-Hans solution:payment-timing "请稍后再试" "处理您的卡时发生错误，请稍后再试。" "${dark[@]}"
# Phone screenshots with a status bar.
phone en_phone_declined.png en cause:cross-border-restricted "your card was declined" "Payment" $'Payment failed\nYour card was declined.'
phone en_phone_do_not_honor_small.jpg en cause:cross-border-restricted "do_not_honor" "Billing" $'Payment failed\nDecline code: do_not_honor' "${telegram[@]}"
phone zh_phone_declined.png zh-Hans cause:cross-border-restricted "交易被拒绝" "支付" $'支付失败\n交易被拒绝，请联系发卡行'
phone zh_phone_alipay_small.jpg zh-Hans cause:platform-unsupported "支付宝" "收银台" $'暂不支持支付宝付款\n请使用银行卡支付' "${telegram[@]}"
phone zh_phone_address_dark.png zh-Hans cause:account-settings "账单地址" "付款设置" $'账单地址与银行预留\n信息不一致' "${dark[@]}"
phone en_phone_timeout_tilted.jpg en solution:payment-timing "timed out" "Checkout" $'The payment page\ntimed out' "${tilt[@]}" "${jpeg[@]}"
# Banks' SMS.
sms zh_sms_cross_border.png zh-Hans cause:cross-border-restricted "未开通境外" "95555" $'【招商银行】您尾号0128的信用卡\n12月01日境外交易失败，原因：\n未开通境外网上支付。如需\n开通请致电95555。'
sms zh_sms_code_small.jpg zh-Hans cause:bank-verification "验证码" "95588" $'【工商银行】验证码：884512，\n您正在进行境外网上支付，\n请勿告知他人。' "${telegram[@]}"
sms zh_sms_limit_dark.png zh-Hans solution:choose-plan "超过限额" "95533" $'【建设银行】您尾号3321的卡\n境外交易超过限额，交易未成功。' "${dark[@]}"
# Bank apps' risk-control popups.
popup zh_popup_risk.png zh-Hans cause:bank-verification "安全验证" "交易提醒" $'该笔交易存在风险，\n需完成安全验证后重试。' "我知道了"
popup zh_popup_verify_failed_tilted.jpg zh-Hans cause:bank-verification "验证失败" "提示" $'身份验证失败，\n交易未完成。' "确定" "${tilt[@]}" "${jpeg[@]}"
popup en_popup_authentication.png en cause:bank-verification "authentication" "Notice" $'3D Secure authentication\nfailed. Transaction\nnot completed.' "OK"

# No payment text: a photo-like gradient with no words, and a chat about dinner.
"$im" -size 1000x750 gradient:'#87ceeb-#2e8b57' -fill '#f4a460' -draw "circle 700,200 760,260" "$out/tmp.png"
finish "$out/tmp.png" none_gradient.jpg -quality 70
entry none_gradient.jpg - none - -
"$im" -size 1080x1400 xc:white -font "$font" -fill black -pointsize 40 -annotate +70+75 "20:15" \
  -fill '#e9e9eb' -draw "roundrectangle 40,300 900,460 40,40" -fill black -pointsize 40 -annotate +80+395 "今晚一起吃火锅吗？七点见" \
  -fill '#0b84ff' -draw "roundrectangle 300,520 1040,680 40,40" -fill white -annotate +340+615 "好的，我订位子" "$out/tmp.png"
finish "$out/tmp.png" none_chat.png
entry none_chat.png zh-Hans none - -

echo "screenshots.sh: wrote $(($(wc -l <"$manifest") - 1)) images and $manifest"
