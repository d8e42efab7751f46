using System.Globalization;
using System.Net;
using System.Text;

namespace SeedDaemon.Ctl.Runs;

/// <summary>
/// runs diff --html: one self-contained file (no network, no external script, font or style) that
/// opens from disk and can be attached to a tracker run. A verdict at the top, the processes × steps
/// grid coloured equal / differs / only in one run with the first divergence marked (a canvas drawn
/// by an inline script from the grid's bytes, so 1,000 × 1,000 cells stay light), the differing
/// digests, and the differing environment side by side.
/// </summary>
public static class HtmlReport
{
    public static string Render(RunDiff diff, DiffGrid grid)
    {
        var html = new StringBuilder(64 * 1024 + (grid.Steps.Count * grid.Workers.Count * 4 / 3));
        var a = Label(diff.A);
        var b = Label(diff.B);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>").Append(E($"seedd runs diff: {a} vs {b}")).Append("</title>\n<style>\n").Append(Style).Append("</style></head><body>\n");
        html.Append("<header><div class=\"brand\">seedd · runs diff</div><h1>").Append(E(a)).Append(" <span class=\"vs\">vs</span> ").Append(E(b)).Append("</h1>");
        html.Append("<div class=\"meta\">compared from step ").Append(diff.FromStep).Append(" · ").Append(E(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))).Append("</div></header>\n");

        if (diff.First is { } first)
        {
            var workers = string.Join(", ", first.Workers.Select(w => w.Worker));
            html.Append("<section id=\"verdict\" class=\"verdict diverged\"><div class=\"big\">Diverged at step <b id=\"first-step\">").Append(first.Step)
                .Append("</b> on worker").Append(first.Workers.Count > 1 ? "s" : "").Append(" <b id=\"first-workers\">").Append(E(workers)).Append("</b>")
                .Append(" <span class=\"cause ").Append(first.Cause).Append("\">").Append(first.Cause).Append("</span></div>")
                .Append("<p>").Append(E(first.Explanation)).Append("</p></section>\n");
        }
        else if (diff.NothingCompared)
        {
            html.Append("<section id=\"verdict\" class=\"verdict diverged\"><div class=\"big\">Nothing compared</div><p>No process recorded a step in both runs from step ")
                .Append(diff.FromStep).Append(" on.</p></section>\n");
        }
        else
        {
            html.Append("<section id=\"verdict\" class=\"verdict equal\"><div class=\"big\">Equal over ").Append(diff.CommonSteps)
                .Append(" common steps</div><p>Every digest of every process that both runs recorded is the same.</p></section>\n");
        }

        html.Append("<section class=\"cards\">");
        Card(html, "processes", $"{diff.A.Processes.Count} / {diff.B.Processes.Count}");
        Card(html, "common steps", diff.CommonSteps.ToString(CultureInfo.InvariantCulture));
        Card(html, "cells compared", diff.ComparedCells.ToString("N0", CultureInfo.InvariantCulture));
        Card(html, "cells differing", diff.DifferingCells.ToString("N0", CultureInfo.InvariantCulture));
        Card(html, "only in " + a, diff.OnlyInA.Values.Sum(v => v.Cells).ToString("N0", CultureInfo.InvariantCulture));
        Card(html, "only in " + b, diff.OnlyInB.Values.Sum(v => v.Cells).ToString("N0", CultureInfo.InvariantCulture));
        html.Append("</section>\n");

        html.Append("<section><h2>Processes × steps</h2><div class=\"legend\">")
            .Append("<span><i class=\"c1\"></i>equal</span><span><i class=\"c2\"></i>differs</span><span><i class=\"c3\"></i>only in ").Append(E(a))
            .Append("</span><span><i class=\"c4\"></i>only in ").Append(E(b)).Append("</span><span><i class=\"c0\"></i>not recorded</span>")
            .Append("<span><i class=\"mark\"></i>first divergence</span></div>")
            .Append("<div class=\"gridwrap\"><canvas id=\"grid\"></canvas><div id=\"tip\" class=\"tip\"></div></div>")
            .Append("<div class=\"axis\">across: step · down: worker · hover a cell for details</div></section>\n");

        if (diff.First is { } divergence)
        {
            html.Append("<section><h2>Digests at step ").Append(divergence.Step).Append("</h2><table><thead><tr><th>worker</th><th>digest</th><th>kind</th><th>")
                .Append(E(a)).Append("</th><th>").Append(E(b)).Append("</th><th>last equal step</th></tr></thead><tbody>");
            foreach (var (worker, previous, digests) in divergence.Workers.Take(200))
            {
                foreach (var d in digests)
                {
                    html.Append("<tr><td>").Append(worker).Append("</td><td>").Append(E(d.Name)).Append("</td><td>").Append(DigestText.Kind(d.Kind))
                        .Append("</td><td class=\"mono\">").Append(E(DigestText.Value(d.Kind, d.A))).Append("</td><td class=\"mono\">").Append(E(DigestText.Value(d.Kind, d.B)))
                        .Append("</td><td>").Append(previous?.ToString(CultureInfo.InvariantCulture) ?? "-").Append("</td></tr>");
                }
            }

            html.Append("</tbody></table></section>\n");
        }

        var environment = diff.EnvironmentDifferences(diff.First?.Workers.Select(w => w.Worker));
        html.Append("<section><h2>Environment differences").Append(diff.First is null ? "" : " of the processes concerned").Append("</h2>");
        if (environment.Count == 0)
        {
            html.Append("<p class=\"quiet\">None: the processes recorded the same host, versions and determinism switches.</p>");
        }
        else
        {
            html.Append("<table><thead><tr><th>worker</th><th>entry</th><th>").Append(E(a)).Append("</th><th>").Append(E(b)).Append("</th></tr></thead><tbody>");
            foreach (var e in environment.Take(500))
            {
                html.Append("<tr><td>").Append(e.Worker).Append("</td><td>").Append(E(e.Key)).Append("</td><td class=\"mono\">").Append(E(e.A))
                    .Append("</td><td class=\"mono\">").Append(E(e.B)).Append("</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        html.Append("</section>\n<footer>Written by seedctl runs diff. Digests are SHA-256 prefixes of generator states, tensors and bytes; scalars are compared by their exact bits.</footer>\n");

        var firstColumn = diff.First is { } f ? IndexOf(grid.Steps, f.Step) : -1;
        var firstRows = diff.First is { } g ? g.Workers.Select(w => IndexOf(grid.Workers, w.Worker)).ToList() : [];
        html.Append("<script>\nconst G={steps:[").Append(Ranges(grid.Steps)).Append("],workers:[").Append(string.Join(",", grid.Workers))
            .Append("],cells:\"").Append(Convert.ToBase64String(grid.Cells())).Append("\",first:{col:").Append(firstColumn).Append(",rows:[").Append(string.Join(",", firstRows))
            .Append("]},a:").Append(JsString(a)).Append(",b:").Append(JsString(b)).Append("};\n").Append(Script).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    private static string Label(RunSide side) => side.ExperimentId + " / " + side.RunId;

    private static void Card(StringBuilder html, string label, string value) =>
        html.Append("<div class=\"card\"><div class=\"v\">").Append(E(value)).Append("</div><div class=\"l\">").Append(E(label)).Append("</div></div>");

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string JsString(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static int IndexOf<T>(IReadOnlyList<T> list, T value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (EqualityComparer<T>.Default.Equals(list[i], value))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Steps as [start, count, stride] runs: a million consecutive steps are three numbers.</summary>
    private static string Ranges(IReadOnlyList<long> steps)
    {
        var parts = new List<string>();
        var i = 0;
        while (i < steps.Count)
        {
            var stride = i + 1 < steps.Count ? steps[i + 1] - steps[i] : 1;
            var j = i + 1;
            while (j < steps.Count && steps[j] - steps[j - 1] == stride)
            {
                j++;
            }

            parts.Add(string.Create(CultureInfo.InvariantCulture, $"[{steps[i]},{j - i},{stride}]"));
            i = j;
        }

        return string.Join(",", parts);
    }

    private const string Style = """
        :root{--bg:#0f1115;--panel:#171a21;--line:#262b36;--text:#e6e8ee;--muted:#9aa3b2;--eq:#2f9e6a;--diff:#e5484d;--a:#4c8dff;--b:#d08cff;--none:#2a2f3a;--mark:#ffd166}
        *{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--text);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        header,section,footer{max-width:1200px;margin:0 auto;padding:16px 24px}
        header{padding-top:28px}.brand{color:var(--muted);font-size:12px;letter-spacing:.08em;text-transform:uppercase}
        h1{margin:4px 0;font-size:24px;font-weight:600;word-break:break-all}.vs{color:var(--muted);font-weight:400}.meta{color:var(--muted);font-size:13px}
        h2{font-size:16px;font-weight:600;margin:8px 0 12px}
        .verdict{border-radius:10px;margin-top:8px;padding:18px 24px;max-width:1152px}.verdict .big{font-size:22px;font-weight:600}.verdict p{margin:6px 0 0;color:#d6d9e0}
        .verdict.equal{background:linear-gradient(90deg,rgba(47,158,106,.25),rgba(47,158,106,.08));border:1px solid rgba(47,158,106,.6)}
        .verdict.diverged{background:linear-gradient(90deg,rgba(229,72,77,.25),rgba(229,72,77,.08));border:1px solid rgba(229,72,77,.6)}
        .cause{display:inline-block;margin-left:10px;padding:2px 10px;border-radius:999px;font-size:13px;vertical-align:middle;background:#2a2f3a;text-transform:uppercase;letter-spacing:.05em}
        .cause.seeding{background:rgba(255,209,102,.2);color:var(--mark)}.cause.computation{background:rgba(76,141,255,.2);color:#9cc0ff}.cause.undetermined{background:rgba(160,160,160,.2);color:#d0d0d0}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
        .card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 16px}.card .v{font-size:20px;font-weight:600}.card .l{color:var(--muted);font-size:12px;word-break:break-all}
        .legend{display:flex;flex-wrap:wrap;gap:16px;color:var(--muted);font-size:13px;margin-bottom:10px}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;vertical-align:-1px}
        .c0{background:var(--none)}.c1{background:var(--eq)}.c2{background:var(--diff)}.c3{background:var(--a)}.c4{background:var(--b)}.mark{outline:2px solid var(--mark);background:transparent}
        .gridwrap{position:relative;overflow:auto;max-height:720px;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px}
        canvas{display:block;image-rendering:pixelated}.axis{color:var(--muted);font-size:12px;margin-top:6px}
        .tip{position:absolute;pointer-events:none;background:#000d;border:1px solid var(--line);border-radius:6px;padding:4px 8px;font-size:12px;display:none;white-space:nowrap}
        table{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:10px;overflow:hidden}
        th,td{text-align:left;padding:7px 12px;border-bottom:1px solid var(--line);vertical-align:top}th{color:var(--muted);font-weight:500;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
        .mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}.quiet{color:var(--muted)}
        footer{color:var(--muted);font-size:12px;padding-bottom:40px}
        """;

    private const string Script = """
        (function(){
          const steps=[];for(const[s,n,d]of G.steps){for(let i=0;i<n;i++)steps.push(s+i*d);}
          const raw=atob(G.cells),W=steps.length,H=G.workers.length;
          const cv=document.getElementById('grid');if(!W||!H){cv.replaceWith(Object.assign(document.createElement('p'),{className:'quiet',textContent:'No fingerprints in the compared range.'}));return;}
          const cw=Math.max(1,Math.min(24,Math.floor(1040/W))),ch=Math.max(1,Math.min(18,Math.floor(640/H))),gap=(cw>=6&&ch>=6)?1:0;
          const ML=56,MT=22,dpr=window.devicePixelRatio||1;cv.width=(ML+W*cw)*dpr;cv.height=(MT+H*ch)*dpr;cv.style.width=(ML+W*cw)+'px';cv.style.height=(MT+H*ch)+'px';
          const x=cv.getContext('2d');x.scale(dpr,dpr);const css=getComputedStyle(document.documentElement);
          const col=['--none','--eq','--diff','--a','--b'].map(v=>css.getPropertyValue(v).trim());
          x.fillStyle=css.getPropertyValue('--muted').trim();x.font='11px system-ui,sans-serif';x.textBaseline='middle';
          const every=(size,min)=>Math.max(1,Math.ceil(min/size));
          for(let c=0,k=every(cw,48);c<W;c+=k){x.textAlign='left';x.fillText(String(steps[c]),ML+c*cw,MT/2);}
          for(let r=0,k=every(ch,14);r<H;r+=k){x.textAlign='right';x.fillText(String(G.workers[r]),ML-8,MT+r*ch+ch/2);}
          x.translate(ML,MT);
          for(let r=0;r<H;r++){for(let c=0;c<W;c++){x.fillStyle=col[raw.charCodeAt(r*W+c)]||col[0];x.fillRect(c*cw,r*ch,cw-gap,ch-gap);}}
          if(G.first.col>=0){x.strokeStyle=css.getPropertyValue('--mark').trim();x.lineWidth=2;
            x.setLineDash([4,3]);x.beginPath();x.moveTo(G.first.col*cw+cw/2,0);x.lineTo(G.first.col*cw+cw/2,H*ch);x.stroke();x.setLineDash([]);
            for(const r of G.first.rows){x.strokeRect(G.first.col*cw-1,r*ch-1,Math.max(cw,4)+2,Math.max(ch,4)+2);}}
          const names=['not recorded','equal','differs','only in '+G.a,'only in '+G.b],tip=document.getElementById('tip');
          cv.addEventListener('mousemove',e=>{const b=cv.getBoundingClientRect(),c=Math.floor((e.clientX-b.left-ML)/cw),r=Math.floor((e.clientY-b.top-MT)/ch);
            if(c<0||r<0||c>=W||r>=H){tip.style.display='none';return;}
            tip.textContent='step '+steps[c]+' · worker '+G.workers[r]+' · '+names[raw.charCodeAt(r*W+c)];tip.style.display='block';
            tip.style.left=(e.clientX-b.left+24)+'px';tip.style.top=(e.clientY-b.top+8)+'px';});
          cv.addEventListener('mouseleave',()=>tip.style.display='none');
        })();
        """;
}
