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
.draw{position:relative;display:inline-block;max-width:100%;line-height:0;border:1px solid #ccc}
.shapes .draw{touch-action:none;user-select:none;-webkit-user-select:none}
.draw img{max-width:100%;height:auto}
.draw svg{position:absolute;left:0;top:0;width:100%;height:100%}
.draw rect,.draw polygon,.draw polyline{fill:none;stroke:#d0c;stroke-width:3px;vector-effect:non-scaling-stroke}
.draw circle{fill:#d0c;stroke:#fff;stroke-width:2px;vector-effect:non-scaling-stroke}
.draw .sel{stroke:#0a0}.draw circle.sel{fill:#0a0}
.draw .tmp{stroke:#04f;stroke-dasharray:6 4}.draw circle.tmp{fill:#04f}
.shapes ol.marked button{width:auto;margin:2px 4px 2px 0}
)css";

// Read aloud: a button with data-say="id" speaks that element through the browser's own speech
// synthesis, and hides where there is none.
// Spans: in each .spans block (a review page has several), tapping a word (.w, its place in
// data-s and data-e) and then another marks the words from the first to the second with the
// chosen label; a span that overlaps one marked before replaces it. The marked spans are listed
// in the block's .marked, each with a button to remove it, and written into its field "spans"
// as "start-end:label;..." (qa/spans.h).
// Shapes: in each .shapes block, the image's .draw holds an SVG in the original's pixels
// (data-w by data-h). A drag across it draws a box with the chosen label, or a tap then another
// its two corners; on a points stage a tap is a point; on a polygons stage each tap a corner (at
// most data-corners), and a tap on the first corner or .close closes it (as does sending the
// form with three or more corners tapped). A shape chosen in the
// list (.marked) moves when dragged (a small box and a polygon always), a box resizes by its
// corners, or with the arrow keys (Shift: a box's size); .add puts one in the middle for a
// keyboard. At most data-max; it starts with data-start's shapes; each written into "shapes" as
// "label:x0,y0,x1,y1;...", "label:x,y;..." or "label:x,y,x,y,x,y;..." (qa/shapes.h).
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
document.querySelectorAll('.shapes').forEach(function(sh){var d=sh.querySelector('.draw');if(!d)return;
var svg=d.querySelector('svg'),W=+sh.dataset.w,H=+sh.dataset.h,pt=sh.dataset.kind==='point',pg=sh.dataset.kind==='polygon',
ns='http://www.w3.org/2000/svg',marks=[],first=null,tmp=null,sel=-1,g=null,poly=[],rad=Math.max(2,Math.max(W,H)/60),
out=sh.querySelector('input[name=shapes]'),ol=sh.querySelector('ol.marked');
var at=function(e){var r=svg.getBoundingClientRect(),c=function(v,m){return Math.max(0,Math.min(m,Math.round(v)));};
return{x:c((e.clientX-r.left)*W/r.width,pt?W-1:W),y:c((e.clientY-r.top)*H/r.height,pt?H-1:H)};};
var el=function(n,a){var e=document.createElementNS(ns,n);for(var k in a)e.setAttribute(k,a[k]);svg.appendChild(e);};
var rect=function(m,c){el('rect',{x:m.x0,y:m.y0,width:m.x1-m.x0,height:m.y1-m.y0,'class':c});};
var box=function(a,b){return{x0:Math.min(a.x,b.x),y0:Math.min(a.y,b.y),x1:Math.max(a.x,b.x),y1:Math.max(a.y,b.y)};};
var bb=function(m){var x=[],y=[];m.p.forEach(function(v,i){(i&1?y:x).push(v);});
m.x0=Math.min.apply(0,x);m.x1=Math.max.apply(0,x);m.y0=Math.min.apply(0,y);m.y1=Math.max.apply(0,y);return m;};
var area=function(p){var a=0;for(var i=0;i<p.length;i+=2){var j=(i+2)%p.length;a+=p[i]*p[j+1]-p[j]*p[i+1];}return a;};
var add=function(m){if(marks.length>=+sh.dataset.max||(m.p?!area(m.p):!pt&&(m.x1-m.x0<2||m.y1-m.y0<2)))return;
var l=sh.querySelector('input[name=shape_label]:checked');m.l=l?l.value:'';marks.push(m);sel=-1;};
var close=function(){if(poly.length<6)return;add(bb({p:poly}));poly=[];};
var words=function(m){if(!m.p)return'('+m.x0+','+m.y0+(pt?')':')\u2013('+m.x1+','+m.y1+')');
var c=[];for(var j=0;j<m.p.length;j+=2)c.push('('+m.p[j]+','+m.p[j+1]+')');return c.join(' ');};
var draw=function(focus){svg.textContent='';marks.forEach(function(m,i){var c=i===sel?'sel':'';
if(pt)el('circle',{cx:m.x0,cy:m.y0,r:rad,'class':c});else if(m.p)el('polygon',{points:m.p.join(','),'class':c});else rect(m,c);});
if(tmp)rect(tmp,'tmp');if(first)el('circle',{cx:first.x,cy:first.y,r:rad,'class':'tmp'});
if(poly.length){el('polyline',{points:poly.join(','),'class':'tmp'});for(var j=0;j<poly.length;j+=2)el('circle',{cx:poly[j],cy:poly[j+1],r:j?rad:2*rad,'class':'tmp'});}
ol.textContent='';marks.forEach(function(m,i){var li=document.createElement('li'),b=document.createElement('button');
b.type='button';b.textContent=m.l+' '+words(m);
b.setAttribute('aria-pressed',i===sel);b.addEventListener('click',function(){sel=sel===i?-1:i;first=null;draw(true);});
b.addEventListener('keydown',function(e){var k={ArrowLeft:[-1,0],ArrowRight:[1,0],ArrowUp:[0,-1],ArrowDown:[0,1]}[e.key];
if(!k)return;e.preventDefault();sel=i;var s=Math.max(1,Math.round(Math.max(W,H)/100)),dx=k[0]*s,dy=k[1]*s;
if(e.shiftKey&&!pt&&!m.p){m.x1=Math.max(m.x0+2,Math.min(W,m.x1+dx));m.y1=Math.max(m.y0+2,Math.min(H,m.y1+dy));}
else{var mx=pt?W-1:W-m.x1+m.x0,my=pt?H-1:H-m.y1+m.y0,nx=Math.max(0,Math.min(mx,m.x0+dx)),ny=Math.max(0,Math.min(my,m.y0+dy));
if(m.p)m.p=m.p.map(function(v,j){return v+(j&1?ny-m.y0:nx-m.x0);});
if(!pt){m.x1+=nx-m.x0;m.y1+=ny-m.y0;}m.x0=nx;m.y0=ny;}draw(true);});
var x=document.createElement('button');x.type='button';x.textContent='\u2715';x.setAttribute('aria-label',sh.dataset.remove+' '+m.l);
x.addEventListener('click',function(){marks.splice(i,1);sel=-1;draw();});li.appendChild(b);li.appendChild(x);ol.appendChild(li);});
if(focus&&sel>=0)ol.children[sel].firstChild.focus();
out.value=marks.map(function(m){return m.l+':'+(m.p?m.p.join(','):m.x0+','+m.y0+(pt?'':','+m.x1+','+m.y1));}).join(';');};
(sh.dataset.start||'').split(';').forEach(function(t){var c=t.lastIndexOf(':');if(c<1)return;
var n=t.slice(c+1).split(',').map(Number),m={l:t.slice(0,c),x0:n[0],y0:n[1],x1:n[2],y1:n[3]};if(n.length>4){m.p=n;bb(m);}marks.push(m);});
sh.querySelector('.add').addEventListener('click',function(){var m=pt?{x0:W>>1,y0:H>>1}:pg?bb({p:+sh.dataset.corners<4?[W>>1,H>>2,(3*W)>>2,(3*H)>>2,W>>2,(3*H)>>2]:[W>>1,H>>2,(3*W)>>2,H>>1,W>>1,(3*H)>>2,W>>2,H>>1]}):{x0:W>>2,y0:H>>2,x1:(3*W)>>2,y1:(3*H)>>2};
add(m);if(marks[marks.length-1]===m)sel=marks.length-1;draw(true);});
var cb=sh.querySelector('.close');if(cb)cb.addEventListener('click',function(){close();draw();});
var fm=sh.closest('form');if(fm)fm.addEventListener('submit',function(){if(poly.length>=6){close();draw();}});
d.addEventListener('pointerdown',function(e){if(e.button>0)return;e.preventDefault();
try{d.setPointerCapture(e.pointerId);}catch(_){}var p=at(e);g={p:p,x:e.clientX,y:e.clientY,mode:'new'};
if(sel<0)return;var m=marks[sel],r=24*W/svg.getBoundingClientRect().width;g.m={x0:m.x0,y0:m.y0,x1:m.x1,y1:m.y1,p:m.p&&m.p.slice()};
var small=!pt&&(m.p||m.x1-m.x0<3*r||m.y1-m.y0<3*r),inside=pt?Math.hypot(p.x-m.x0,p.y-m.y0)<r:p.x>=m.x0&&p.x<=m.x1&&p.y>=m.y0&&p.y<=m.y1;
if(small&&inside)g.mode='move';else if(!pt&&!m.p&&Math.abs(p.x-m.x1)<r&&Math.abs(p.y-m.y1)<r)g.mode='x1';
else if(!pt&&!m.p&&Math.abs(p.x-m.x0)<r&&Math.abs(p.y-m.y0)<r)g.mode='x0';else if(inside)g.mode='move';});
d.addEventListener('pointermove',function(e){if(!g)return;if(!g.on&&Math.abs(e.clientX-g.x)+Math.abs(e.clientY-g.y)<9)return;
g.on=true;first=null;var p=at(e);if(g.mode==='new'){if(!pt&&!pg)tmp=box(g.p,p);}else{var m=marks[sel],o=g.m;
if(g.mode==='move'){var dx=Math.max(-o.x0,Math.min(p.x-g.p.x,(pt?W-1-o.x0:W-o.x1))),dy=Math.max(-o.y0,Math.min(p.y-g.p.y,(pt?H-1-o.y0:H-o.y1)));
m.x0=o.x0+dx;m.y0=o.y0+dy;if(!pt){m.x1=o.x1+dx;m.y1=o.y1+dy;}if(o.p)m.p=o.p.map(function(v,j){return v+(j&1?dy:dx);});}
else if(g.mode==='x1'){m.x1=Math.max(o.x0+2,p.x);m.y1=Math.max(o.y0+2,p.y);}else{m.x0=Math.min(o.x1-2,p.x);m.y0=Math.min(o.y1-2,p.y);}}draw();});
d.addEventListener('pointerup',function(e){if(!g)return;var p=at(e),h=g;g=null;tmp=null;
if(h.on){if(h.mode==='new'&&!pt&&!pg)add(box(h.p,p));}else if(h.mode!=='new'||sel>=0){sel=-1;}
else if(pt){add({x0:p.x,y0:p.y});}else if(pg){var r=24*W/svg.getBoundingClientRect().width;
if(poly.length>=6&&Math.hypot(p.x-poly[0],p.y-poly[1])<r)close();else if(poly.length<2*sh.dataset.corners)poly.push(p.x,p.y);}
else if(first){add(box(first,p));first=null;}else{first=p;}draw();});
d.addEventListener('pointercancel',function(){g=null;tmp=null;draw();});draw();});
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
