{% comment %}Opens the page's live stream while its scripts still load, and holds what it sends until
htmx takes the stream over (static/dashboard/live.js: window.liveStart.take() stops holding
and gives the held events): the first live value then waits for the slower of the two, not
for both in a row (docs/live.md). Inlined by base.html into every live page, hence short:
m the meta naming the stream's URL and events, s the stream, n the names, h the held events.
{% endcomment %}(function(){var m=document.querySelector("meta[name=live-stream]");if(!m||!window.EventSource)return;var s=new EventSource(m.content,{withCredentials:true}),n=m.dataset.events.split(" "),h=[];function k(e){h.push(e)}n.forEach(function(e){s.addEventListener(e,k)});window.liveStart={url:m.content,source:s,take:function(){n.forEach(function(e){s.removeEventListener(e,k)});window.liveStart=null;return h}}})();
