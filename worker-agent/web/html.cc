#include "worker-agent/web/html.h"

#include "absl/strings/str_cat.h"

namespace mw::agent::web {

Html Escape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return Html(Html::Trusted{}, std::move(out));
}

namespace {

// Big touch targets, readable type, no web fonts: a five-year-old phone on a slow link.
constexpr char kStyle[] = R"css(
body{font:18px/1.5 sans-serif;margin:0;padding:0 12px 24px;max-width:640px;color:#111}
nav{display:flex;flex-wrap:wrap;gap:8px;padding:8px 0;border-bottom:1px solid #ccc}
nav a{padding:8px 10px;background:#eef;border-radius:6px;text-decoration:none;color:#114}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
.notice{background:#ffd;border:1px solid #cc9;padding:10px;border-radius:6px;margin:10px 0}
.error{background:#fee;border-color:#c99}
.pay{font-size:1.3em;font-weight:bold}
button,input[type=submit]{font-size:1em;min-height:48px;padding:10px 16px;border-radius:8px;
border:1px solid #558;background:#dde;width:100%;margin:6px 0}
button.primary{background:#264;color:#fff;border-color:#264}
label{display:block;margin:6px 0}input[type=checkbox],input[type=radio]{width:24px;height:24px;vertical-align:middle}
label.opt{display:block;border:1px solid #aaa;border-radius:8px;padding:12px;margin:6px 0}
input[type=text],input[type=number],input[type=password],textarea,select{font-size:1em;width:100%;
box-sizing:border-box;padding:10px;min-height:48px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:6px;text-align:start}
dl dt{font-weight:bold}dl dd{margin:0 0 8px}
form.inline{margin:0}button.small{width:auto;min-height:40px;margin:0}
.card{border:1px solid #ccc;border-radius:8px;padding:8px 10px;margin:10px 0}
fieldset.scale label{display:inline-block;margin:4px 6px 4px 0;min-width:40px}
fieldset.scale small{display:block}
button.w{display:inline-block;width:auto;min-height:44px;margin:2px 0;padding:6px 8px;background:#fff}
button.w.on{background:#fd8;border-color:#a80}button.w.first{outline:3px solid #264}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}
@media(max-width:560px){.pair{grid-template-columns:1fr}}
img.photo{max-width:100%;height:auto;display:block;border:1px solid #ccc}
.clip{display:flex;gap:8px;align-items:center}.clip audio{flex:1;min-width:0}
.clip button{width:auto;min-width:52px;min-height:44px}
)css";

// Read aloud: a button with data-say="id" speaks that element through the browser's own speech
// synthesis, and hides where there is none.
// Spans: in each .spans block (a review page has several), tapping a word (.w, its place in
// data-s and data-e) and then another marks the words from the first to the second with the
// chosen label; a span that overlaps one marked before replaces it. The marked spans are listed
// in the block's .marked, each with a button to remove it, and written into its field "spans"
// as "start-end:label;..." (qa/spans.h).
// Audio: in each .clip, the .replay button plays from the start and .slower toggles 0.75x
// speed.
// Time on task: on a form with data-idle-ms (the answer form), the time the page was hidden and
// every pause longer than data-idle-ms without a touch or key go into each form's hidden_ms
// field as it is sent.
constexpr char kScript[] = R"js(
function say(id){var t=document.getElementById(id);if(!t||!window.speechSynthesis)return;
var u=new SpeechSynthesisUtterance(t.innerText);u.lang=document.documentElement.lang;
speechSynthesis.cancel();speechSynthesis.speak(u);}
document.addEventListener('DOMContentLoaded',function(){
document.querySelectorAll('.say').forEach(function(b){if(!window.speechSynthesis){
b.style.display='none';}else{b.addEventListener('click',function(){say(b.dataset.say);});}});
document.querySelectorAll('.spans').forEach(function(sp){var first=null,marks=[],ws=sp.querySelectorAll('.w');
var draw=function(){marks.sort(function(x,y){return x.s-y.s;});ws.forEach(function(b){
var on=marks.some(function(x){return +b.dataset.s>=x.s&&+b.dataset.e<=x.e;});
b.className='w'+(on?' on':'')+(b===first?' first':'');b.setAttribute('aria-pressed',on||b===first);});
var ol=sp.querySelector('.marked');ol.textContent='';marks.forEach(function(x,i){
var li=document.createElement('li');li.textContent=x.t+' \u2014 '+x.l+' ';
var d=document.createElement('button');d.type='button';d.className='small';d.textContent='\u2715';
d.setAttribute('aria-label',sp.dataset.remove+' '+x.t);
d.addEventListener('click',function(){marks.splice(i,1);draw();});li.appendChild(d);ol.appendChild(li);});
sp.querySelector('input[name=spans]').value=marks.map(function(x){return x.s+'-'+x.e+':'+x.l;}).join(';');};
ws.forEach(function(b){b.addEventListener('click',function(){if(!first){first=b;draw();return;}
var s=Math.min(+first.dataset.s,+b.dataset.s),e=Math.max(+first.dataset.e,+b.dataset.e),t=[];first=null;
ws.forEach(function(w){if(+w.dataset.s>=s&&+w.dataset.e<=e)t.push(w.textContent);});
var l=sp.querySelector('input[name=span_label]:checked');
marks=marks.filter(function(x){return x.e<=s||x.s>=e;});
marks.push({s:s,e:e,l:l?l.value:'',t:t.join(' ')});draw();});});});
document.querySelectorAll('.clip').forEach(function(c){var au=c.querySelector('audio');
c.querySelector('.replay').addEventListener('click',function(){au.currentTime=0;au.play();});
var sl=c.querySelector('.slower');sl.addEventListener('click',function(){
au.playbackRate=au.playbackRate<1?1:0.75;sl.setAttribute('aria-pressed',au.playbackRate<1);});});
var a=document.querySelector('form[data-idle-ms]');if(!a)return;
var hid=0,h0=0,last=Date.now(),gap=+a.dataset.idleMs;
document.addEventListener('visibilitychange',function(){if(document.hidden){h0=Date.now();}
else if(h0){hid+=Date.now()-h0;h0=0;last=Date.now();}});
['click','keydown','touchstart','input'].forEach(function(e){document.addEventListener(e,
function(){var n=Date.now();if(n-last>gap)hid+=n-last-gap;last=n;},true);});
document.querySelectorAll('form').forEach(function(f){f.addEventListener('submit',function(){
var n=Date.now();if(n-last>gap)hid+=n-last-gap;var i=f.querySelector('[name=hidden_ms]');
if(i)i.value=hid;});});});
)js";

}  // namespace

absl::string_view PageScript() { return kScript; }
absl::string_view PageStyle() { return kStyle; }

std::string Page(const Frame& f, const Html& body) {
  return HtmlCat("<!doctype html><html lang=\"", Escape(f.lang), "\" dir=\"", Escape(f.dir),
                 "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                 "content=\"width=device-width,initial-scale=1\">",
                 f.refresh_seconds > 0
                     ? HtmlCat("<meta http-equiv=\"refresh\" content=\"", f.refresh_seconds, "\">")
                     : Html(),
                 "<title>", Escape(f.title), "</title><style>", kStyle, "</style><script>", kScript,
                 "</script></head><body>", f.nav, f.notice, body, "</body></html>")
      .str();
}

}  // namespace mw::agent::web
