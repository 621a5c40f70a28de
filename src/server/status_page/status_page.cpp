#include "server/status_page/status_page.h"

namespace ag::server {

namespace {

// clang-format off
constexpr std::string_view kHtml = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>autoglm.cpp server</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}
header{display:flex;align-items:center;gap:12px;padding:14px 22px;background:#1f2937;color:#fff}
#light{width:16px;height:16px;border-radius:50%;background:#d33;box-shadow:0 0 6px #d33}
#light.ok{background:#2c2;box-shadow:0 0 8px #2c2}
main{display:grid;grid-template-columns:1fr 1fr;gap:16px;padding:16px 22px}
section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 3px #0002}
h2{font-size:15px;margin:4px 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
td{padding:3px 6px;border-bottom:1px solid #eee}td:first-child{color:#666;width:45%}
#chat{grid-column:1/3}#log{height:260px;overflow:auto;background:#fafafa;border:1px solid #ddd;
padding:8px;white-space:pre-wrap;font-size:14px}.u{color:#05a}.r{color:#888}
form{display:flex;gap:8px;margin-top:8px}input{flex:1;padding:6px}
</style></head><body>
<header><div id="light"></div><b>autoglm.cpp</b><span id="state">connecting…</span>
<span style="margin-left:auto" id="uptime"></span></header>
<main>
<section><h2>Model and settings</h2><table id="model"></table></section>
<section><h2>Live metrics</h2><table id="metrics"></table></section>
<section id="chat"><h2>Chat</h2><div id="log"></div>
<form id="f"><input id="msg" placeholder="Say something…" autocomplete="off">
<input id="key" placeholder="API key (if set)" style="flex:0 0 160px">
<button>Send</button></form></section>
</main>
<script>
const $=id=>document.getElementById(id);
let model='', history=[];
function rows(t,o){t.innerHTML='';for(const[k,v]of Object.entries(o)){const r=t.insertRow();
r.insertCell().textContent=k;r.insertCell().textContent=typeof v==='object'?JSON.stringify(v):v;}}
function fmtUp(s){const h=Math.floor(s/3600),m=Math.floor(s%3600/60);
 return `up ${h}h ${m}m ${Math.floor(s%60)}s`;}
async function poll(){
 try{const r=await fetch('/status');const j=await r.json();
  $('light').className=j.ready?'ok':'';$('state').textContent=j.ready?'ready':'loading model…';
  $('uptime').textContent=fmtUp(j.uptime_s);model=j.model.served_name||'';
  rows($('model'),Object.assign({},j.model,j.settings));rows($('metrics'),j.metrics);
 }catch(e){$('light').className='';$('state').textContent='unreachable';}
}
setInterval(poll,2000);poll();
$('f').onsubmit=async e=>{
 e.preventDefault();const text=$('msg').value;if(!text)return;$('msg').value='';
 history.push({role:'user',content:text});
 const log=$('log');
 log.insertAdjacentHTML('beforeend','<div class="u"></div><div class="a"></div>');
 log.lastChild.previousSibling.textContent='> '+text;const out=log.lastChild;
 const headers={'Content-Type':'application/json'};
 if($('key').value)headers.Authorization='Bearer '+$('key').value;
 const res=await fetch('/v1/chat/completions',{method:'POST',headers,
  body:JSON.stringify({model,messages:history,stream:true,max_tokens:512})});
 if(!res.ok){out.textContent='error '+res.status+': '+await res.text();history.pop();return;}
 const rd=res.body.getReader(),dec=new TextDecoder();let buf='',answer='';
 for(;;){const{value,done}=await rd.read();if(done)break;buf+=dec.decode(value,{stream:true});
  let i;while((i=buf.indexOf('\n\n'))>=0){const ev=buf.slice(0,i);buf=buf.slice(i+2);
   if(!ev.startsWith('data: ')||ev==='data: [DONE]')continue;const j=JSON.parse(ev.slice(6));
   const d=j.choices&&j.choices[0]&&j.choices[0].delta;if(!d)continue;
   if(d.reasoning_content){out.insertAdjacentHTML('beforeend','<span class="r"></span>');
    out.lastChild.textContent=d.reasoning_content;}
   if(d.content){answer+=d.content;out.append(d.content);}log.scrollTop=log.scrollHeight;}}
 history.push({role:'assistant',content:answer});
};
</script></body></html>
)HTML";
// clang-format on

}  // namespace

std::string_view status_page_html() { return kHtml; }

}  // namespace ag::server
